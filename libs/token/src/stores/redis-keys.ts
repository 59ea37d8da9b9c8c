/**
 * Names of the store's keys and channel. On a cluster, the cache key is a hash tag (`{…}`), so a
 * provider's token and lease live in one slot and a script may touch both; on one server or behind
 * Sentinel the names stay as they always were, so upgrading a running fleet keeps its shared entries.
 */
export class RedisKeys {
  readonly channel: string;

  constructor(
    private readonly prefix: string,
    private readonly hashTags: boolean,
  ) {
    this.channel = `${prefix}events`;
  }

  /** The encrypted entry (JWE), expiring with its token. */
  token(cacheKey: string): string {
    return `${this.prefix}token:${this.tag(cacheKey)}`;
  }

  /**
   * The current generation: a random id set with every write, deleted with every invalidation, and
   * sealed into the entry, so an entry's bytes written back later are refused. Outlives the entry.
   */
  generation(cacheKey: string): string {
    return `${this.prefix}gen:${this.tag(cacheKey)}`;
  }

  /** The refresh lock. */
  lease(cacheKey: string): string {
    return `${this.prefix}lease:${this.tag(cacheKey)}`;
  }

  private tag(cacheKey: string): string {
    return this.hashTags ? `{${cacheKey}}` : cacheKey;
  }
}
