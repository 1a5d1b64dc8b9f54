import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A Lua script Redis runs by its SHA1 (EVALSHA), sent whole (EVAL) only when a server does not
 * have it yet (NOSCRIPT: after a restart, a failover, on a new cluster node; EVAL caches it there).
 * The per-request limits run one script each: their text then crosses the wire once per server,
 * not once per request, and Redis does not hash it again each time.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(
    client: Redis | Cluster,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error && e.message.startsWith('NOSCRIPT'))) throw e;
      return client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
