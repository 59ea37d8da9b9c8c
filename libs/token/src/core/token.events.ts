import { EventEmitter } from 'node:events';

/**
 * What happened to a provider's token. Payloads carry names, times and error messages, never a token
 * or a secret.
 *
 * @publicApi
 */
export interface TokenEventMap {
  /** A new token was stored. `background` is true when no caller waited for it. */
  refreshed: [{ provider: string; expiresAt: number; durationMs: number; background: boolean }];
  /** A refresh failed; the next attempt is not made before `retryInMs`. */
  'refresh-failed': [{ provider: string; error: Error; consecutiveFailures: number; retryInMs: number }];
  /** A refresh failed or is cooling down, and the still-valid cached token was served. */
  'fallback-served': [{ provider: string; expiresAt: number }];
  /** A caller found no valid token and none could be had. */
  expired: [{ provider: string; error: Error }];
}

/** The name of a {@link TokenEventMap} event. @publicApi */
export type TokenEventName = keyof TokenEventMap;

/**
 * Typed emitter of {@link TokenEventMap}; `tokenService.events.on('refreshed', …)`.
 * A throwing listener is isolated: it never breaks a refresh.
 *
 * @publicApi
 */
export class TokenEvents extends EventEmitter<TokenEventMap> {}
