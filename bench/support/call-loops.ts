/**
 * Timing loops, compiled once per subject with `new Function` so that each subject gets its own
 * inline caches: one loop shared by every subject would go megamorphic at the call site and slow
 * them all down (mostly the fastest), which would flatten the ratios this benchmark exists to show.
 */

/** Awaits `get()` n times; resolves to a value that depends on every result so no call can be dropped. */
export type BatchLoop = (n: number) => Promise<number>;
/** Awaits `get()` n times, timing each call; writes nanoseconds into `out` from index 0. */
export type SampleLoop = (n: number, out: Float64Array) => Promise<void>;

let compiled = 0;

export function compileBatchLoop(get: () => Promise<unknown>): BatchLoop {
  const id = compiled++;
  return new Function(
    'get',
    `return async function batch${id}(n) {
      let sink = 0;
      for (let i = 0; i < n; i++) {
        const value = await get();
        if (value !== undefined) sink++;
      }
      return sink;
    };`,
  )(get) as BatchLoop;
}

export function compileSampleLoop(get: () => Promise<unknown>): SampleLoop {
  const id = compiled++;
  return new Function(
    'get',
    'hrtime',
    `return async function sample${id}(n, out) {
      for (let i = 0; i < n; i++) {
        const start = hrtime();
        await get();
        out[i] = Number(hrtime() - start);
      }
    };`,
  )(get, process.hrtime.bigint) as SampleLoop;
}

/** Runs a full collection when the process was started with `--expose-gc`, so no batch pays for another's garbage. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
