import { AsyncLocalStorage } from 'node:async_hooks';
import { isObservable, Observable } from 'rxjs';

/** The provider in effect and the object whose `@UseToken()` method put it there. */
interface TokenContextFrame {
  readonly provider: string | undefined;
  readonly self: unknown;
}

/**
 * The provider whose token outgoing requests carry, set around `@UseToken()` method calls and kept
 * across `await`s by `AsyncLocalStorage`.
 */
const storage = new AsyncLocalStorage<TokenContextFrame>();

/**
 * The provider in effect for the current call, if any.
 *
 * @publicApi
 */
export function currentTokenProvider(): string | undefined {
  return storage.getStore()?.provider;
}

/**
 * Runs `fn` with `provider` in effect (or none, for `undefined`), as a `@UseToken()` method does.
 *
 * @publicApi
 * @example
 * await runWithTokenProvider('kling', () => firstValueFrom(http.get(url)));
 */
export function runWithTokenProvider<R>(provider: string | undefined, fn: () => R): R {
  return runInFrame({ provider, self: undefined }, fn);
}

/**
 * How the explorer's wrappers run a method. A class-level provider does not replace the one a method
 * of the same object is already running under, so a method-level `@UseToken('other')` still holds
 * while that method calls the class's own helpers.
 */
export function runDecoratedMethod<R>(
  provider: string | undefined,
  level: 'class' | 'method',
  self: unknown,
  fn: () => R,
): R {
  if (level === 'class' && self !== undefined && storage.getStore()?.self === self) return fn();
  return runInFrame({ provider, self }, fn);
}

/** An Observable result is lazy: its subscription, made later, is bound to the same frame. */
function runInFrame<R>(frame: TokenContextFrame, fn: () => R): R {
  const result = storage.run(frame, fn);
  if (isObservable(result)) {
    const source = result;
    return new Observable((subscriber) => storage.run(frame, () => source.subscribe(subscriber))) as R;
  }
  return result;
}
