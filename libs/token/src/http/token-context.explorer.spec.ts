import { describe, expect, it } from '@jest/globals';
import { Controller, Injectable, SetMetadata } from '@nestjs/common';
import { DiscoveryModule, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { currentTokenProvider, runWithTokenProvider } from './token-context.js';
import { TokenContextExplorer } from './token-context.explorer.js';
import { TokenMetadataAccessor } from './token-metadata.accessor.js';
import { UseToken } from './use-token.decorator.js';
import { defer, firstValueFrom } from 'rxjs';

@Injectable()
@UseToken('kling')
class KlingService {
  current() {
    return currentTokenProvider();
  }
  async afterAwait() {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.current();
  }
  lazily() {
    return defer(async () => currentTokenProvider());
  }
  @UseToken('other')
  @SetMetadata('other-library', 42)
  asOther() {
    return this.current(); // the class's own helper keeps the method's provider
  }
  @UseToken(false)
  without() {
    return this.current();
  }
}

@Injectable()
class PlainService {
  constructor(private readonly kling: KlingService) {}
  current() {
    return currentTokenProvider();
  }
  viaKling() {
    return this.kling.current();
  }
}

@Controller()
@UseToken('kling')
class KlingController {
  handle() {
    return currentTokenProvider();
  }
}

@UseToken('valued')
class ValueProvided {
  current() {
    return currentTokenProvider();
  }
}

@Controller()
@UseToken('kling')
class NotYetSeenController {
  handle() {
    return currentTokenProvider();
  }
}

async function compile(controllers: (new () => unknown)[] = [KlingController]) {
  return Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers,
    providers: [
      TokenMetadataAccessor,
      TokenContextExplorer,
      KlingService,
      PlainService,
      { provide: 'VALUED', useValue: new ValueProvided() },
    ],
  }).compile();
}

describe('TokenContextExplorer', () => {
  it('runs the methods of @UseToken classes with their provider, across awaits and Observables', async () => {
    const moduleRef = await (await compile()).init();
    const kling = moduleRef.get(KlingService);
    expect(kling.current()).toBe('kling');
    await expect(kling.afterAwait()).resolves.toBe('kling');
    await expect(firstValueFrom(kling.lazily())).resolves.toBe('kling');
    expect(kling.asOther()).toBe('other');
    expect(kling.without()).toBeUndefined();
    expect(moduleRef.get(PlainService).current()).toBeUndefined();
    expect(moduleRef.get(PlainService).viaKling()).toBe('kling');
    expect(runWithTokenProvider('x', () => moduleRef.get(PlainService).current())).toBe('x');
    expect(moduleRef.get<ValueProvided>('VALUED').current()).toBe('valued');
    await moduleRef.close();
  });

  it('wraps controllers before routes are bound (at construction, not onModuleInit)', async () => {
    expect(new NotYetSeenController().handle()).toBeUndefined();
    const moduleRef = await compile([NotYetSeenController]); // compiled, not initialised
    expect(new NotYetSeenController().handle()).toBe('kling');
    await moduleRef.close();
  });

  it('keeps other metadata and the name, and never wraps twice', async () => {
    const first = await (await compile()).init();
    const wrapped = KlingService.prototype.asOther;
    const second = await (await compile()).init();
    expect(KlingService.prototype.asOther).toBe(wrapped);
    expect(wrapped.name).toBe('asOther');
    expect(new Reflector().get('other-library', wrapped)).toBe(42);
    expect(new TokenMetadataAccessor(new Reflector()).getMethodProvider(wrapped)).toBe('other');
    await first.close();
    await second.close();
  });
});

describe('@UseToken', () => {
  it('takes a provider name or false', () => {
    expect(() => UseToken('')).toThrow(InvalidTokenOptionsError);
    expect(() => UseToken(42 as unknown as string)).toThrow('"provider" must be a non-empty string or false');
    expect(new TokenMetadataAccessor(new Reflector()).getClassProvider(KlingService)).toBe('kling');
  });
});
