import type { Clock } from '../../core/clock.js';
import { TOKEN_DEFAULTS } from '../../core/token.constants.js';
import { TokenEndpointHeldError } from '../../core/token.errors.js';
import { describeEndpoint } from '../../core/token-endpoint-url.js';

/**
 * A token endpoint's `Retry-After` (RFC 9110 §10.2.3) is about the endpoint, not about one grant:
 * after a 429 to the refresh-token grant, the client-credentials fallback, a per-call variant, another
 * provider on the same URL or a forced refresh must not knock again before the time it named.
 * One "not before" instant per token URL, consulted before every token request the OAuth2 client
 * sends. Kept per clock: an instant means something only on the clock it was read from (production
 * has one, `systemClock`; a test's `ManualClock` gets its own time line). Capped like the refresh
 * backoff: a server asking for an hour must not leave a provider without a token for an hour.
 */
interface Hold {
  until: number;
  status: number;
}

const holdsByClock = new WeakMap<Clock, Map<string, Hold>>();

/** Throws {@link TokenEndpointHeldError} while `url` asked to wait; no request goes out. */
export function checkEndpointHold(url: string, clock: Clock): void {
  const holds = holdsByClock.get(clock);
  const hold = holds?.get(url);
  if (hold === undefined) return;
  const now = clock.now();
  if (now >= hold.until) {
    holds!.delete(url);
    return;
  }
  throw new TokenEndpointHeldError(describeEndpoint(url), hold.status, hold.until, now);
}

/** Records the endpoint's `Retry-After`, read at `now`; a later instant already held is kept. */
export function holdEndpoint(
  url: string,
  clock: Clock,
  status: number,
  retryAfterMs: number,
  now: number,
): void {
  if (!(retryAfterMs > 0)) return;
  let holds = holdsByClock.get(clock);
  if (holds === undefined) holdsByClock.set(clock, (holds = new Map()));
  // Expired holds go first: the map holds only endpoints that asked to wait recently.
  for (const [key, hold] of holds) if (now >= hold.until) holds.delete(key);
  const until = now + Math.min(retryAfterMs, TOKEN_DEFAULTS.retryMaxDelayMs);
  const current = holds.get(url);
  if (current === undefined || current.until < until) holds.set(url, { until, status });
}
