import type { Clock } from '../../libs/token/src/core/clock.js';
import { systemClock } from '../../libs/token/src/core/clock.js';
import { TokenInfo } from '../../libs/token/src/core/token-info.js';
import type { TokenStrategy } from '../../libs/token/src/core/token-strategy.interface.js';

/** Client id and secret every benchmark client sends; the loopback endpoint accepts anything. */
export const BENCH_CLIENT = { clientId: 'bench-client', clientSecret: 'bench-secret' } as const;

/**
 * A plain client-credentials strategy on `fetch`, used when the library's own `OAuth2Strategy` is not
 * there yet. It does what any such strategy must: one POST, parse `access_token` and `expires_in`.
 */
export class FetchClientCredentialsStrategy implements TokenStrategy {
  readonly cacheKey: string;

  constructor(
    private readonly tokenUrl: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.cacheKey = `bench-oauth2:${tokenUrl}:${BENCH_CLIENT.clientId}`;
  }

  async generate(): Promise<TokenInfo> {
    const response = await fetch(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...toForm(BENCH_CLIENT) }).toString(),
    });
    const body = (await response.json()) as {
      access_token?: string;
      token_type?: string;
      expires_in?: number;
    };
    if (!response.ok || typeof body.access_token !== 'string')
      throw new Error(`token endpoint answered ${response.status}`);
    const now = this.clock.now();
    return new TokenInfo({
      token: body.access_token,
      tokenType: body.token_type ?? 'Bearer',
      issuedAt: now,
      expiresAt: now + (body.expires_in ?? 3600) * 1000,
    });
  }
}

function toForm(client: typeof BENCH_CLIENT): Record<string, string> {
  return { client_id: client.clientId, client_secret: client.clientSecret };
}

// Held in a variable so TypeScript does not resolve it at build time: the file may not exist yet.
const OAUTH2_STRATEGY_MODULE = '../../libs/token/src/strategies/oauth2/oauth2.strategy.js';

/**
 * The library's `OAuth2Strategy` against `tokenUrl` when it is there and accepts this configuration,
 * otherwise {@link FetchClientCredentialsStrategy}. `kind` says which one the figures are for.
 */
export async function clientCredentialsStrategy(
  tokenUrl: string,
): Promise<{ strategy: TokenStrategy; kind: 'OAuth2Strategy' | 'fetch strategy'; why?: string }> {
  try {
    const module = (await import(OAUTH2_STRATEGY_MODULE)) as Record<string, unknown>;
    const OAuth2Strategy = module.OAuth2Strategy as new (config: Record<string, unknown>) => TokenStrategy;
    const strategy = new OAuth2Strategy({
      tokenUrl,
      clientId: BENCH_CLIENT.clientId,
      clientSecret: BENCH_CLIENT.clientSecret,
    });
    return { strategy, kind: 'OAuth2Strategy' };
  } catch (error) {
    return {
      strategy: new FetchClientCredentialsStrategy(tokenUrl),
      kind: 'fetch strategy',
      why: (error as Error).message.split('\n')[0],
    };
  }
}
