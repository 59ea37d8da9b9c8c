import { describe, expect, it } from '@jest/globals';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TokenInfo } from '../core/token-info.js';
import { TokenModule } from '../module/token.module.js';
import { TokenService } from '../module/token.service.js';
import { closestName } from './closest-name.js';
import { UseToken } from './use-token.decorator.js';

@Injectable()
@UseToken('late')
class LateClient {
  @UseToken(false)
  plain(): void {}
}

/** Registers "late" in its own onModuleInit, as some applications do. */
@Injectable()
class LateRegistration implements OnModuleInit {
  constructor(private readonly tokens: TokenService) {}
  onModuleInit(): void {
    this.tokens.register('late', {
      cacheKey: 'late',
      generate: async () => new TokenInfo({ token: 't', expiresAt: Date.now() + 3_600_000 }),
    });
  }
}

describe('the start-up check of @UseToken names', () => {
  it('counts providers registered in any onModuleInit, and @UseToken(false) names nothing', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ providers: {}, refresh: { enabled: false } })],
      providers: [LateClient, LateRegistration],
    }).compile();
    await expect(moduleRef.init()).resolves.toBe(moduleRef);
    await moduleRef.close();
  });

  it('suggests the nearest registered name, only when it is near', () => {
    expect(closestName('klingg', ['kling', 'openai'])).toBe('kling');
    expect(closestName('opnai', ['kling', 'openai'])).toBe('openai');
    expect(closestName('KLING', ['kling'])).toBe('kling');
    expect(closestName('payments', ['kling', 'openai'])).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
  });
});
