/**
 * Runs one scenario in its own process (`node --expose-gc scenario-child.js <file> [--quick]`) and
 * sends its result to the orchestrator over IPC. A process per scenario keeps the JIT state, heap and
 * sockets of one scenario from colouring the next.
 */
import { Logger } from '@nestjs/common';
import { parseBenchOptions } from './options.js';
import type { ScenarioResult } from './results.js';

Logger.overrideLogger(false); // one log line per refresh would drown the table (and cost time)

// Some clients refresh in the background without anyone awaiting it (Azure's cycler in its "should
// refresh" window); once a scenario has stopped its endpoint, those refreshes fail with nobody to
// catch them. They are counted in the JSON, not allowed to end the run.
let unhandledRejections = 0;
process.on('unhandledRejection', () => unhandledRejections++);

const [file, ...rest] = process.argv.slice(2);
const scenario = (await import(new URL(`../${file}`, import.meta.url).href)) as {
  run: (options: ReturnType<typeof parseBenchOptions>) => Promise<ScenarioResult>;
};
const result = await scenario.run(parseBenchOptions(rest));
result.detail = { ...result.detail, unhandledRejections };
if (process.send !== undefined) {
  process.send(result, () => process.exit(0));
} else {
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
