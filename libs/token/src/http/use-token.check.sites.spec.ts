import { afterEach, describe, expect, it } from '@jest/globals';
import { Reflector, type DiscoveryService } from '@nestjs/core';
import { MetadataScanner } from '@nestjs/core';
import type { TokenSource } from '../core/token-source.js';
import { LogCapture } from '../testing-support/log-capture.js';
import { TokenMetadataAccessor } from './token-metadata.accessor.js';
import { UseTokenProviderCheck } from './use-token.check.js';
import { UseToken } from './use-token.decorator.js';
import { thrownOptionsError } from '../testing-support/options-errors.js';

@UseToken('kling')
class KlingClient {
  @UseToken('graph')
  mail(): void {}
  @UseToken('kling')
  again(): void {}
  plain(): void {}
}

class MixedClient {
  @UseToken('klnig')
  one(): void {}
  notAMethod = 5;
}

@UseToken('payments')
class PaymentsController {}

class Plain {}

type Wrapper = { metatype?: unknown; instance?: unknown; isNotMetatype?: boolean };

/** The check over these providers and controllers, with these registered names. */
function check(
  registered: string[],
  providers: Wrapper[],
  controllers: Wrapper[] = [],
  mode?: 'fail' | 'warn',
): UseTokenProviderCheck {
  const discovery = {
    getProviders: () => providers,
    getControllers: () => controllers,
  } as unknown as DiscoveryService;
  const tokens = { providerNames: () => registered } as unknown as TokenSource;
  return new UseTokenProviderCheck(
    discovery,
    new MetadataScanner(),
    new TokenMetadataAccessor(new Reflector()),
    tokens,
    mode,
  );
}

const failure = thrownOptionsError;

describe('UseTokenProviderCheck', () => {
  let logs: LogCapture | undefined;
  afterEach(() => logs?.restore());

  it('passes when every @UseToken names a registered provider', () => {
    expect(() =>
      check(
        ['kling', 'graph', 'payments'],
        [{ metatype: KlingClient }],
        [{ metatype: PaymentsController }],
      ).onApplicationBootstrap(),
    ).not.toThrow();
  });

  it('names each unknown use, where it sits, a close registered name, and the registered ones', () => {
    const error = failure(() =>
      check(
        ['kling'],
        [
          { metatype: KlingClient },
          { metatype: MixedClient },
          { metatype: Plain },
          { metatype: KlingClient },
        ],
        [{ metatype: PaymentsController }],
      ).onApplicationBootstrap(),
    );
    expect(error.message).toBe(
      [
        `@UseToken('graph') on KlingClient.mail: token provider "graph" is not registered`,
        `@UseToken('klnig') on MixedClient.one: token provider "klnig" is not registered; did you mean "kling"?`,
        `@UseToken('payments') on PaymentsController: token provider "payments" is not registered`,
        `registered providers: "kling". A provider registered later with TokenService.register(): set unregisteredProviders: 'warn'.`,
      ].join('\n'),
    );
    expect(error.provider).toBe('graph');
    expect(error.field).toBe('provider');
  });

  it('says "none" when nothing is registered', () => {
    const error = failure(() => check([], [{ metatype: PaymentsController }]).onApplicationBootstrap());
    expect(error.message).toContain('registered providers: none.');
    expect(error.provider).toBe('payments');
  });

  it("with unregisteredProviders: 'warn', logs one line per use and starts", () => {
    logs = new LogCapture().install();
    expect(() =>
      check(
        ['kling', 'graph'],
        [{ metatype: MixedClient }],
        [{ metatype: PaymentsController }],
        'warn',
      ).onApplicationBootstrap(),
    ).not.toThrow();
    expect(logs.lines.filter((line) => line.includes('@UseToken'))).toEqual([
      `warn @UseToken('klnig') on MixedClient.one: token provider "klnig" is not registered; did you mean "kling"? (registered providers: "kling", "graph") TokenModule`,
      `warn @UseToken('payments') on PaymentsController: token provider "payments" is not registered (registered providers: "kling", "graph") TokenModule`,
    ]);
  });

  it("finds a factory or value provider's class from its instance, and skips what has no class", () => {
    const error = failure(() =>
      check(
        ['kling', 'graph'],
        [
          { isNotMetatype: true, instance: new PaymentsController(), metatype: () => undefined },
          { isNotMetatype: true, instance: { plain: 'object' } },
          { isNotMetatype: true, instance: 'a string value' },
          { isNotMetatype: true, instance: null },
          { metatype: 'not a class' },
          { metatype: undefined },
        ],
      ).onApplicationBootstrap(),
    );
    expect(error.message.split('\n')[0]).toBe(
      `@UseToken('payments') on PaymentsController: token provider "payments" is not registered`,
    );
  });
});
