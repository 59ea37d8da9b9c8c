import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TokenService } from '../module/token.service.js';

/**
 * What {@link TokenHealthIndicator.isHealthy} checks.
 *
 * @publicApi
 */
export interface TokenHealthCheckOptions {
  /** Providers to check. Default: every registered provider. */
  providers?: readonly string[];
  /**
   * Ask for a token when a provider has no valid one (never fetched yet, evicted or expired), so a
   * provider that is only used later does not read as down. The request is shared with callers and
   * honours the failure cool-down; the check waits for it at most `obtainWaitMs`, then answers from
   * what the service knows (a provider whose token is still on its way reads as down). Default true.
   */
  obtainMissing?: boolean;
  /** Longest the check waits for the tokens `obtainMissing` asked for. Default 50 ms. */
  obtainWaitMs?: number;
}

/** How long a check waits for missing tokens by default: a health probe must answer at once. */
const DEFAULT_OBTAIN_WAIT_MS = 50;

/**
 * One provider in the indicator's result. Names and times only: no token, no secret.
 *
 * @publicApi
 */
export interface TokenProviderHealth {
  /** `up`: valid token; `degraded`: valid token, but refreshes fail; `down`: no valid token. */
  status: 'up' | 'degraded' | 'down';
  /** Milliseconds until the cached token expires; null without one. */
  expiresInMs: number | null;
  consecutiveFailures: number;
}

/**
 * A `@nestjs/terminus` health indicator: up while every provider (or the listed ones) holds a valid
 * token; `degraded` (terminus 12; `up` on 11) while one serves its cached token because refreshes fail;
 * down, naming the providers, when one has no valid token.
 * Lives in the `nest-token-manager/health` entry point so the main one does not need terminus.
 *
 * @publicApi
 * @example
 * \@Get('health')
 * \@HealthCheck()
 * check() {
 *   return this.health.check([() => this.tokenHealth.isHealthy('tokens', { providers: ['kling'] })]);
 * }
 */
@Injectable()
export class TokenHealthIndicator {
  constructor(
    private readonly tokens: TokenService,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'tokens'>(
    key: Key = 'tokens' as Key,
    options: TokenHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const names = options.providers ?? this.tokens.providerNames();
    if (options.obtainMissing !== false) {
      await this.obtainMissing(names, options.obtainWaitMs ?? DEFAULT_OBTAIN_WAIT_MS);
    }

    const stats = this.tokens.getStats().tokens;
    const providers: Record<string, TokenProviderHealth> = {};
    const down: string[] = [];
    const degraded: string[] = [];
    for (const name of names) {
      const provider = stats[name];
      const status: TokenProviderHealth['status'] =
        provider === undefined || provider.isExpired
          ? 'down'
          : provider.consecutiveFailures > 0
            ? 'degraded'
            : 'up';
      providers[name] = {
        status,
        expiresInMs: provider?.expiresIn ?? null,
        consecutiveFailures: provider?.consecutiveFailures ?? 0,
      };
      if (status === 'down') down.push(name);
      if (status === 'degraded') degraded.push(name);
    }

    const session = this.healthIndicatorService.check(key);
    const data = { providers, down, degraded };
    if (down.length > 0) return session.down(data);
    // `degraded()` arrived with terminus 12; on 11 a degraded provider still reads as up.
    if (degraded.length > 0 && typeof session.degraded === 'function') return session.degraded(data);
    return session.up(data);
  }

  /** Starts the missing tokens' refreshes and waits for them, never longer than `waitMs`. */
  private async obtainMissing(names: readonly string[], waitMs: number): Promise<void> {
    const missing = names.filter((name) => this.tokens.hasProvider(name) && this.tokens.isTokenExpired(name));
    if (missing.length === 0) return;
    const obtained = Promise.allSettled(missing.map((name) => this.tokens.getToken(name)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    await Promise.race([obtained, deadline]);
    clearTimeout(timer);
  }
}
