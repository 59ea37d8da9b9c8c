/**
 * Defaults, in one place, with the unit in every name.
 *
 * @publicApi
 */
export const TOKEN_DEFAULTS = {
  /** A token with less than this left is refreshed before use (the seed's 5 minutes). */
  safetyMarginMs: 300_000,
  /** Lifetime assumed when neither the server nor the token says one (1 hour). */
  defaultExpiresInMs: 3_600_000,
  /** Self-signed JWT lifetime (KlingAI: 30 minutes). */
  jwtExpiresInSeconds: 1800,
  /** `nbf` is back-dated by this much so a server with a slow clock still accepts the token. */
  jwtNotBeforeSkewSeconds: 5,
  /** Token endpoint request timeout. */
  requestTimeoutMs: 10_000,
  /** Longest a strategy's `generate()` may take before the refresh counts as failed (custom ones too). */
  refreshTimeoutMs: 30_000,
  /** Longest shutdown waits for refreshes in flight. */
  shutdownTimeoutMs: 5_000,
  /** Per-call variants (scope, tenant…) kept per provider. */
  maxVariantsPerProvider: 100,
  /** Largest token endpoint response body read before giving up. */
  maxResponseBytes: 64 * 1024,
  /** Cron expression of the preemptive refresh sweep (every 30 s). */
  refreshCron: '*/30 * * * * *',
  /** First retry delay after a failed refresh; doubles on every failure. */
  retryInitialDelayMs: 1_000,
  /** Longest delay between retries of a failing refresh. */
  retryMaxDelayMs: 60_000,
} as const;

/**
 * The margin never takes more than this share of a token's lifetime. A quarter keeps the
 * background-refresh window (2 × margin before expiry, the seed's rule) in the second half of the
 * lifetime, so even a 10-second token is used for at least half its life and never refreshed on every call.
 */
export const MAX_MARGIN_FRACTION_OF_LIFETIME = 0.25;

/** Share of the margin over which background refreshes are spread, so a fleet does not refresh at once. */
export const REFRESH_JITTER_FRACTION_OF_MARGIN = 0.5;

/** Injection token of the {@link Clock} used for every expiry decision (swap it in tests). */
export const TOKEN_CLOCK = Symbol('TOKEN_CLOCK');

/** Metadata key written by `@UseToken()`. */
export const USE_TOKEN_METADATA = 'nest-token-manager:use-token';

/** Name of the `ConfigService` namespace read when `forRoot` gets no explicit provider list. */
export const TOKEN_CONFIG_NAMESPACE = 'token';
