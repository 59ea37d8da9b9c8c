// Run by `fleet-redis-process.e2e-spec.ts` in a process of its own: starts a redis-server of its
// own, SIGSTOPs it, prints its PID and then ends the way `FLEET_ORPHAN_END` says (a failed test's
// worker exiting, or a worker told to stop), without ever calling stop().
import { RedisServerProcess } from './fleet-redis-server.js';

const server = await RedisServerProcess.start();
server.pause();
process.stdout.write(`pid ${server.pid}\n`);
if (process.env.FLEET_ORPHAN_END === 'exit') process.exit(1);
setInterval(() => {}, 1_000); // waits for the signal
