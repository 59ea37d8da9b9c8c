/**
 * The demo's script, in milliseconds from the start. Tokens live a few seconds so that a 20-second
 * run shows what a real service sees over hours: background refreshes, a 401, an outage, recovery.
 */
export const DEMO_SCENARIO = {
  /** Whole run. */
  durationMs: 20_000,
  /** Kling JWT lifetime and margin: replaced in the background every 2–2.5 s. */
  klingLifetimeSeconds: 4,
  klingMarginMs: 1_000,
  /**
   * Partner OAuth2 token lifetime and margin: replaced in the background 6–7.5 s after it arrives;
   * the margin is the largest the library allows (a quarter of the lifetime) so that an outage over
   * two failed refreshes still ends, retry included, at least 1.5 s before the token expires.
   */
  partnerLifetimeSeconds: 12,
  partnerMarginMs: 3_000,
  /** The Kling API revokes the token it last accepted: the next requests with it get a 401. */
  klingRevokeAtMs: 5_000,
  /**
   * The partner's token endpoint goes down (503) here, while its API stays up. It comes back half
   * the announced backoff after this many failed refreshes, so the next retry finds it up before the
   * cached token expires; callers are served the cached token all along.
   */
  partnerOutageAtMs: 8_000,
  partnerOutageFailures: 2,
  /** Callers per provider, each making one API call after another with this pause. */
  callersPerProvider: 6,
  pauseBetweenCallsMs: 20,
  /** Callers that arrive together on the cold cache at the start. */
  coldCallers: 200,
} as const;

export type DemoScenario = typeof DEMO_SCENARIO;
