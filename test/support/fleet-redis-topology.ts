// The topologies live beside the benchmarks, which use them too (the bench build leaves test/ out).
export { RedisClusterTopology, RedisSentinelTopology } from '../../bench/support/redis-topology.js';
