import type { Logger } from '@nestjs/common';
import type { TokenStore } from '../core/token-store.interface.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';

/** What shutting the refresh engine down touches. */
export interface RefreshShutdownDeps {
  store: TokenStore;
  logger: Logger;
  /** Budget for the whole shutdown, from the first hook that asks. */
  shutdownTimeoutMs: number;
  /** Every `store.obtain` running (the refresher's set). */
  running: ReadonlySet<Promise<unknown>>;
  /** Stops the freshness timer: nothing new is scheduled once shutdown began. */
  stopTimer: () => void;
  /** The strategies to close. */
  strategies: () => TokenStrategy[];
}

/**
 * The engine's shutdown: waits for the refreshes under way, then closes the store and the
 * strategies, all within one budget shared by whoever calls first (the scheduler's hook, then the
 * service's). What still runs at the deadline is abandoned (its timers are unref'd) and logged once.
 */
export class RefreshShutdown {
  private settled: Promise<void> | undefined = undefined;
  /** When the first shutdown hook began: the budget runs from there. */
  private startedAt: number | undefined = undefined;

  constructor(private readonly deps: RefreshShutdownDeps) {}

  /** Waits for the refreshes under way, at most the budget from the first call. */
  settle(): Promise<void> {
    this.startedAt ??= Date.now();
    return (this.settled ??= this.waitForRefreshes());
  }

  /** Lets refreshes in flight settle, then closes the store and the strategies, within what is left. */
  async close(): Promise<void> {
    await this.settle();
    const { store, logger, shutdownTimeoutMs } = this.deps;
    const leftMs = Math.max(0, shutdownTimeoutMs - (Date.now() - this.startedAt!));
    const closed = store.close().catch((error: unknown) => {
      logger.warn(`could not close the token store: ${(error as Error)?.message ?? String(error)}`);
    });
    const strategies = this.deps.strategies().map((strategy) => closeStrategy(strategy, logger));
    await raceDeadline(Promise.all([closed, ...strategies]), leftMs);
  }

  private async waitForRefreshes(): Promise<void> {
    this.deps.stopTimer();
    const running = [...this.deps.running];
    if (running.length === 0) return;
    const timeoutMs = this.deps.shutdownTimeoutMs;
    const settled = await raceDeadline(Promise.allSettled(running), timeoutMs);
    if (!settled) {
      this.deps.logger.warn(
        `shutdown: ${running.length} token refresh(es) still running after ${timeoutMs} ms ` +
          'abandoned (a strategy that does not answer)',
      );
    }
  }
}

/** Calls the strategy's `close()`, if any; a failure is logged, never thrown. */
export async function closeStrategy(strategy: TokenStrategy, logger: Logger): Promise<void> {
  try {
    await strategy.close?.();
  } catch (error) {
    logger.warn(`could not close a token strategy: ${(error as Error)?.message ?? String(error)}`);
  }
}

/** True when `promise` settled within `ms`; false when the deadline came first. The timer never holds the process. */
async function raceDeadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
