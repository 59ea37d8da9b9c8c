import type { Logger } from '@nestjs/common';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { Clock } from '../core/clock.js';
import type { SenderConstraint } from '../core/sender-constraint.js';
import type { TokenInfo } from '../core/token-info.js';
import type { TokenProvider } from '../core/token-source.js';
import type { InvalidateOptions } from '../core/token.service-settings.js';
import type { TokenCacheEntry } from '../refresh/token-cache-entry.js';

/** What a registered provider needs of the registry that holds it. */
export interface ProviderRegistry {
  getToken(name: string): Promise<TokenInfo>;
  invalidate(name: string, options?: InvalidateOptions): Promise<boolean>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
}

/**
 * One registered name: its options and strategy as registered, the sender constraint its strategy
 * declared, and its token cell (the one state machine of its token; per-call variants hang off it).
 * `TokenService` keeps one per name; the HTTP integration asks for it once per request and uses it for
 * every hop and the 401 retry. The cache hit does not go through it: `getToken` reads the cells directly.
 */
export class RegisteredProvider implements TokenProvider {
  readonly senderConstraint: SenderConstraint | undefined;

  constructor(
    readonly cell: TokenCacheEntry,
    private readonly registry: ProviderRegistry,
  ) {
    this.senderConstraint = (
      cell.strategy as { readonly senderConstraint?: SenderConstraint }
    ).senderConstraint;
  }

  get name(): string {
    return this.cell.name;
  }

  /** The options it was registered with: where its token may go, its margin… */
  get originRules(): Readonly<ProviderOptions> {
    return this.cell.options;
  }

  getToken(): Promise<TokenInfo> {
    return this.registry.getToken(this.name);
  }

  /** See `TokenService.renewAfterUnauthorized`. */
  async renewAfterUnauthorized(rejectedToken: string): Promise<TokenInfo> {
    const { cell, registry } = this;
    const { renewal, episodeStarted } = cell.rejectedByApi(
      rejectedToken,
      registry.clock.now(),
      registry.random,
    );
    if (episodeStarted) {
      registry.logger.warn(
        `token provider "${this.name}": the API rejected a freshly renewed token with 401 too; renewals after ` +
          "401s now back off like failed refreshes, and requests get the API's 401 meanwhile",
      );
    }
    let info: TokenInfo;
    if (renewal === 'hold' && cell.info !== undefined) {
      info = cell.info;
    } else if (renewal === 'renew') {
      await registry.invalidate(this.name, { onlyIfToken: rejectedToken });
      info = await this.getToken();
      cell.renewedAfterRejection(info.token);
    } else {
      info = await this.getToken();
    }
    cell.retriedAfterRejection();
    return info;
  }

  noteTokenAccepted(token: string): void {
    this.cell.acceptedByApi(token);
  }
}
