import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import type { BullRootModuleOptions } from '@nestjs/bull';
import type { AdvancedSettings } from 'bull';
import { ServiceUnavailableError } from '../common/errors';
import { within } from '../common/within';
import { AppConfig } from '../config/app-config';
import { keySlot } from './key-slot';

/** A connection to the single Redis of REDIS_URL, or to the Redis Cluster of REDIS_CLUSTER_NODES. */
export type RedisClient = Redis | Cluster;

/** How long a PING may take before Redis (or a cluster's master) counts as down (readiness, /metrics). */
export const REDIS_PING_TIMEOUT_MS = 800;

/** The service connection's own command timeout, in REDIS_COMMAND_TIMEOUT_MS (see redisClientOptions). */
const BACKSTOP_FACTOR = 4;

/** Reconnect quickly (100 ms, 200 ms, ... at most 1 s apart) so service resumes soon after Redis returns. */
export function reconnectDelay(times: number): number {
  return Math.min(times * 100, 1000);
}

/**
 * The service's connection fails fast: a command is given up after one reconnection attempt, or
 * after its command timeout. The request path's commands are bounded tighter by
 * `RedisService.inTime` (REDIS_COMMAND_TIMEOUT_MS of this process being free), so a request
 * answers 503 within a second instead of hanging; the connection's own timeout, four times that,
 * is the backstop for the rest (routing scores, provider-down flags, campaign pacing). It is not
 * REDIS_COMMAND_TIMEOUT_MS itself: ioredis's timer fires before the socket is read, so after the
 * event loop was busy that long it gave up on answers that had arrived (a 503 to a code at a
 * topology run's start, with Redis answering in a millisecond).
 */
export function redisClientOptions(config: AppConfig): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    commandTimeout: BACKSTOP_FACTOR * config.get('REDIS_COMMAND_TIMEOUT_MS'),
    connectTimeout: config.get('REDIS_CONNECT_TIMEOUT_MS'),
    retryStrategy: reconnectDelay,
    enableAutoPipelining: true,
  };
}

/** REDIS_URL as ioredis connection options (Bull takes options, not a URL, when tuned). */
export function redisConnectionOptions(redisUrl: string): RedisOptions {
  const u = new URL(redisUrl);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** How often each cluster client reloads the slot map, whatever happens (see clusterClient). */
export const SLOTS_REFRESH_INTERVAL_MS = 5_000;

/**
 * A Redis Cluster client over REDIS_CLUSTER_NODES. Credentials and TLS come from REDIS_URL (its
 * host is ignored); `node` are the options of each node's connection. The cluster reconnects with
 * the same quick strategy, and a command that meets a failover (a master gone, its replica not yet
 * promoted) is retried on the refreshed slot map for up to 16 × 250 ms before it fails.
 *
 * No cluster-level ready check: ioredis sends it (CLUSTER INFO) to a random node of the pool, which
 * after a failover may be the dead former master (it stays a startup node); a failed check drops
 * every connection and starts over, so a cluster client that (re)connects while that node is down
 * may never become ready. Bull reconnects its blocking client when a queue closes, and the app's
 * close waited on it forever. The slot map is enough: commands that meet CLUSTERDOWN are retried.
 */
export function clusterClient(config: AppConfig, node: RedisOptions, cluster: ClusterOptions = {}): Cluster {
  // ioredis reloads the slot map on a MOVED, a CLUSTERDOWN or a closed connection. A master that
  // stops answering with its connections open (a frozen machine) gives none: after its replica's
  // promotion every command for its slots, and every Bull loop blocked on it, would wait for it
  // until TCP gave up (minutes). The periodic reload finds the promotion; the reload that no longer
  // lists the frozen master disconnects it, which fails what waited on it, and it is retried on the
  // promoted replica.
  const { username, password, tls } = redisConnectionOptions(config.get('REDIS_URL'));
  return new Cluster(
    config.get('REDIS_CLUSTER_NODES').map((n) => ({ ...n })),
    {
      redisOptions: {
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        ...(tls ? { tls } : {}),
        ...node,
      },
      clusterRetryStrategy: reconnectDelay,
      retryDelayOnFailover: 250,
      retryDelayOnClusterDown: 250,
      retryDelayOnTryAgain: 250,
      slotsRefreshTimeout: config.get('REDIS_CONNECT_TIMEOUT_MS'),
      slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
      enableReadyCheck: false,
      ...cluster,
    },
  );
}

/**
 * Bull's connections. Its `client` (adds jobs, moves them) fails fast like ours: one retry, a
 * connect timeout. Its blocking `bclient` and `subscriber` must keep `maxRetriesPerRequest: null`
 * and no ready check (Bull enforces it and sets them itself), so workers simply wait for Redis
 * and resume on their own when it returns; the quick reconnect strategy bounds that wait.
 * No command timeout here: it would also cut Bull's blocking BRPOPLPUSH.
 */
export function bullRedisOptions(config: AppConfig): RedisOptions {
  return {
    ...redisConnectionOptions(config.get('REDIS_URL')),
    maxRetriesPerRequest: 1,
    enableReadyCheck: false,
    connectTimeout: config.get('REDIS_CONNECT_TIMEOUT_MS'),
    retryStrategy: reconnectDelay,
  };
}

export function redisKey(prefix: string, parts: readonly (string | number)[]): string {
  return `${prefix}:${parts.join(':')}`;
}

/**
 * The keys of one multi-key command (a script, a MULTI) must share a Redis Cluster slot. On a
 * cluster the slot is a hash tag after the prefix (`sms:{code:7}:rl:…`); on a single Redis there are
 * no slots, and the key is `redisKey` as it always was (counts survive the upgrade).
 */
export function redisKeyInSlot(
  prefix: string,
  clustered: boolean,
  slot: string | number,
  parts: readonly (string | number)[],
): string {
  return clustered ? `${prefix}:{${slot}}:${parts.join(':')}` : redisKey(prefix, parts);
}

/**
 * On a Redis Cluster, whether the master the slot map routes `key` to is gone: its connection
 * ended (killed, its host gone), while its slots point at it until a replica is promoted. A
 * command for such a slot would be retried by ioredis for seconds, so the request path refuses at
 * once instead of waiting out REDIS_COMMAND_TIMEOUT_MS (the codes of a topology run's first second
 * after a kill each waited 0.5–1.9 s). False on one Redis, and while the slot map is not known yet.
 *
 * A master whose connection ends leaves the client's pool at once, and is then remembered as gone.
 * No command goes to its slots, so no MOVED or closed connection makes ioredis reload the slot map:
 * it is asked for here, at most once a second, or the slots would stay refused after the
 * promotion. While the failover lasts, such a reload puts the dead master back in the pool,
 * unconnected; it stays gone until a connection to it is made (a connect, at most once a second,
 * is its probe), so no request is the one that tries it (before, about one a second waited out
 * the bound).
 */
export function slotMasterGone(client: RedisClient, key: string): boolean {
  const master = slotMaster(client, key);
  if (!master || !(client instanceof Cluster)) return false;
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master);
  const gone = goneMasters.get(client);
  if (node && (node.status === 'ready' || !gone?.has(master))) {
    gone?.delete(master);
    return false;
  }
  if (node) {
    if (node.status === 'wait' && onceASecond(probeAsked, client)) node.connect().catch(() => undefined);
    return true;
  }
  if (gone) gone.add(master);
  else goneMasters.set(client, new Set([master]));
  if (onceASecond(slotMapAsked, client)) client.refreshSlotsCache();
  return true;
}

/**
 * On a Redis Cluster, the master (`host:port`) the client's slot map routes `key` to; undefined on
 * one Redis, and while the slot map is not known yet.
 */
export function slotMaster(client: RedisClient, key: string): string | undefined {
  return client instanceof Cluster ? client.slots[keySlot(key)]?.[0] : undefined;
}

/** Whether a second has passed since `asked` last said yes for this client (then noted). */
function onceASecond(asked: WeakMap<Cluster, number>, client: Cluster): boolean {
  const now = Date.now();
  if ((asked.get(client) ?? 0) + 1_000 > now) return false;
  asked.set(client, now);
  return true;
}

/** When each cluster client was last asked to reload its slot map, or to connect to a gone master (slotMasterGone). */
const slotMapAsked = new WeakMap<Cluster, number>();
const probeAsked = new WeakMap<Cluster, number>();
/** Each cluster client's masters whose connection ended, until a connection to one is made again. */
const goneMasters = new WeakMap<Cluster, Set<string>>();

/**
 * The one Redis connection for counters (rate limits) and short-lived state. Bull opens its own.
 * Every key goes through `key()` so a deployment (or a test run) owns its prefix.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: RedisClient;
  private readonly prefix: string;

  readonly clustered: boolean;
  private readonly commandTimeoutMs: number;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.clustered = config.redisCluster();
    this.commandTimeoutMs = config.get('REDIS_COMMAND_TIMEOUT_MS');
    if (this.clustered) {
      const { enableAutoPipelining, ...node } = redisClientOptions(config);
      this.client = clusterClient(config, node, { enableAutoPipelining });
    } else this.client = new Redis(config.get('REDIS_URL'), redisClientOptions(config));
    // Keep the process alive on a Redis outage: readiness reports it, callers get errors.
    this.client.on('error', () => undefined);
    this.prefix = config.get('REDIS_PREFIX');
  }

  /**
   * Connected and ready now. While Redis is down a command would wait for its timeout first;
   * callers that must answer within a second ask this instead and decide at once.
   */
  isUp(): boolean {
    return this.client.status === 'ready';
  }

  key(...parts: (string | number)[]): string {
    return redisKey(this.prefix, parts);
  }

  /**
   * A request path's refusal before its command is sent, or null to send it: Redis is down, or
   * (on a cluster) the master of `key`'s slot has gone (`slotMasterGone`; Retry-After 1, as
   * `inTime`'s).
   */
  refusalFor(key: string): ServiceUnavailableError | null {
    if (!this.isUp()) return new ServiceUnavailableError('redis');
    return slotMasterGone(this.client, key) ? new ServiceUnavailableError('redis', 1) : null;
  }

  /**
   * A request path's command, answered or given up within REDIS_COMMAND_TIMEOUT_MS of this process
   * being free to read the answer (`within`: a busy event loop does not count against Redis), then
   * a 503 for the request, or a pass for a fail-open limit. On a cluster the connection's own
   * timeout would bound one try on one node only: a command that meets a failover (its master
   * killed, the slot not yet moved) is retried by ioredis for seconds, and the request would wait
   * as long, then perhaps commit after its client had given up.
   */
  inTime<T>(command: Promise<T>): Promise<T> {
    command.catch(() => undefined); // a late failure of a command given up on
    // On a cluster Retry-After 1: what outlasts the bound is a slot in failover, which moves within
    // seconds (a Redis that is down is refused at once, by isUp, with the usual 5, as a hung one).
    return within(
      command,
      this.commandTimeoutMs,
      () => new ServiceUnavailableError('redis', this.clustered ? 1 : undefined),
    );
  }

  /**
   * Which masters answer a PING within `timeoutMs` (readiness and /metrics). One Redis is one
   * master, named by its URL's host and port. On a cluster, the masters the slot map routes to: a
   * master whose connection ended has left the client's pool, but its slots still point at it
   * until a replica is promoted, so it counts as down.
   */
  async masters(timeoutMs: number): Promise<{ up: string[]; down: string[] }> {
    const ping = (p: Promise<unknown>) =>
      within(p, timeoutMs, () => new Error('timeout')).then(
        () => true,
        () => false,
      );
    if (!this.clustered) {
      const name = this.singleName();
      return (await ping(this.client.ping())) ? { up: [name], down: [] } : { up: [], down: [name] };
    }
    const cluster = this.client as Cluster;
    const connected = new Map(cluster.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]));
    const routed = new Set<string>();
    for (const nodes of cluster.slots) if (nodes?.[0]) routed.add(nodes[0]);
    const names = routed.size > 0 ? [...routed] : [...connected.keys()];
    const answered = await Promise.all(
      names.map((k) => {
        const node = connected.get(k);
        return node ? ping(node.ping()) : false;
      }),
    );
    return { up: names.filter((_, i) => answered[i]), down: names.filter((_, i) => !answered[i]) };
  }

  private singleName(): string {
    const { host, port } = this.client.options as RedisOptions;
    return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
  }

  /** A key that shares its Redis Cluster slot with every other key of the same `slot` (see redisKeyInSlot). */
  keyInSlot(slot: string | number, ...parts: (string | number)[]): string {
    return redisKeyInSlot(this.prefix, this.clustered, slot, parts);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/**
 * Bull's key prefix: hash-tagged, so every key of a queue (Bull's scripts touch several) lands in
 * one Redis Cluster slot. `slot` (a delivery queue shard's, `sms:<n>`) puts the queue in a slot of
 * its own; without it, every queue of the service shares the slot `{<REDIS_PREFIX>}`.
 */
export function bullPrefix(config: AppConfig, slot?: string): string {
  return slot === undefined ? `{${config.get('REDIS_PREFIX')}}` : `{${config.get('REDIS_PREFIX')}:${slot}}`;
}

/** Every queue's Bull settings: a worker whose Redis went away polls again after 1 s (Bull's default: 5 s). */
export const BULL_SETTINGS: AdvancedSettings = { retryProcessDelay: 1000 };

/**
 * Bull's connections on a Redis Cluster: every queue's `client`, `subscriber` and `bclient` is a
 * cluster client (Bull's `createClient`), with the options `bullRedisOptions` gives a single Redis
 * (blocking ones keep `maxRetriesPerRequest: null` and no ready check, which Bull enforces). Bull
 * does not close connections it did not open: they are closed here, last (a global module's
 * shutdown hook runs after every queue's). On a single Redis this does nothing: Bull opens and
 * closes its own, as before.
 */
@Injectable()
export class BullConnections implements OnApplicationShutdown {
  private readonly clients = new Set<Cluster>();
  /**
   * The `client` every queue of this process shares (Bull's "reusing Redis connections"). Each
   * cluster client holds connections to every node and reloads the slot map every
   * SLOTS_REFRESH_INTERVAL_MS over a connection of its own: with three per queue, a worker of 6
   * shards had ~60 of them, ~12 slot reloads a second. The `subscriber` and the blocking `bclient`
   * stay each queue's own: ioredis's cluster subscriber connection runs a ready check (INFO) that
   * a SUBSCRIBE sent meanwhile turns into an error, and with one subscriber for every queue's
   * subscriptions at start a topology worker died of it (docs/RELIABILITY.md).
   */
  private sharedClient: Cluster | null = null;

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  /** Bull's root options: `prefix` for the queues registered with BullModule.registerQueue. */
  rootOptions(prefix = bullPrefix(this.config)): BullRootModuleOptions {
    return {
      redis: bullRedisOptions(this.config),
      prefix,
      settings: BULL_SETTINGS,
      ...(this.config.redisCluster() ? { createClient: (type: string) => this.create(type) } : {}),
    };
  }

  private create(type: string): Cluster {
    if (type === 'client' && this.sharedClient) return this.sharedClient;
    const { enableReadyCheck, retryStrategy, connectTimeout, maxRetriesPerRequest } = bullRedisOptions(
      this.config,
    );
    const blocking = type === 'bclient' || type === 'subscriber';
    const client = clusterClient(this.config, {
      enableReadyCheck,
      retryStrategy,
      connectTimeout,
      maxRetriesPerRequest: blocking ? null : maxRetriesPerRequest,
    });
    this.clients.add(client);
    client.once('end', () => {
      this.clients.delete(client);
      if (this.sharedClient === client) this.sharedClient = null;
    });
    if (type === 'client') {
      // Every queue adds its error listener to the client it is given.
      client.setMaxListeners(0);
      this.sharedClient = client;
    }
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.quit().catch(() => c.disconnect())));
    this.clients.clear();
    this.sharedClient = null;
  }
}

@Global()
@Module({ providers: [RedisService, BullConnections], exports: [RedisService, BullConnections] })
export class RedisModule {}
