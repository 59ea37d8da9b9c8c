import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Callers that keep calling an API, one call after another with a short pause, as a busy service
 * does, until stopped. Each outcome is reported; a failed call is counted, never thrown.
 */
export function startCallers(
  count: number,
  pauseMs: number,
  call: () => Promise<unknown>,
  ended: (ok: boolean) => void,
): { stop: () => Promise<void> } {
  let running = true;
  const loops = Array.from({ length: count }, async () => {
    while (running) {
      try {
        await call();
        ended(true);
      } catch {
        ended(false);
      }
      await sleep(pauseMs);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
