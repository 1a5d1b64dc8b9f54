/**
 * `npm run chaos -- topology` (issue 24, item 4): the scale-out topology under faults.
 *
 * - The topology: 2 api processes (each on its own port; requests alternate between them) and 3
 *   worker processes (each with its own METRICS_PORT), against a local Redis Cluster (3 masters,
 *   3 replicas: test/support/redis-cluster.ts) and the run's PostgreSQL with a streaming replica
 *   (pg_basebackup -R: test/support/pg-replica.ts PgStandby), passed to every process as
 *   REDIS_CLUSTER_NODES and DATABASE_READ_URL. `TOPOLOGY_BACKENDS=single`: the single Redis and
 *   PostgreSQL of the test bed instead.
 * - The load: `TOPOLOGY_MESSAGES` (or `--messages`; default 50,000) from five tenants: about 66 %
 *   send-bulk (three tenants, 10,000-number requests), 30 % campaigns (two tenants, one campaign
 *   each) and 2 % verification codes (one tenant, one every 100 ms; they go on until 10 s after the
 *   last fault, so a slow host sends more than 2 % and every fault's windows hold codes).
 * - The faults, mid-drain: at 30 % sent one worker is SIGKILLed (and not replaced); at 50 %
 *   `killRedisMaster()` SIGKILLs the master of the busiest delivery shard's slot and waits for its
 *   replica's promotion; at 70 % `stopReplica()` stops the standby (`pg_ctl stop -m immediate`).
 * - The checks: every accepted message reached a provider exactly once (the fakes' calls, counted
 *   per destination number: every message of the run has a number of its own), and the codes'
 *   p95 from POST to the provider call is within `TOPOLOGY_CODE_TARGET_MS` (default 100, the
 *   target of bench (i)). From the Redis master's kill to its replica's promotion, /health/ready
 *   of each api answers 200 every second, naming the dead master (`degraded`); after the fault,
 *   dispatch resumes; while the replica is down, /health/ready answers 200 and a replica read
 *   (stats) is answered from the primary.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Cluster } from 'ioredis';
import { Pool } from 'pg';
import { PgStandby, queryOnce } from '../test/support/pg-replica';
import { RedisClusterHandle, startRedisCluster } from '../test/support/redis-cluster';
import { onCleanup } from './cleanup';
import { CpuWait, cpuWaitBetween, formatCpuWait, sampleCpuWait } from './cpu-wait';
import { percentile, resolverSettled, unsettled } from './figures';
import { freePort } from './infra';
import { Check, ScenarioResult } from './scenarios';
import { ServiceProcess } from './service';
import { FINAL_STATUSES, HttpResult, phoneNumbers, Stack } from './stack';
import { sleep, until } from './wait';

export const TOPOLOGY_TITLE =
  '2 api + 3 workers, mixed load; a worker SIGKILLed, a Redis master killed and the replica stopped mid-drain';
export const TOPOLOGY_DEFAULT_MESSAGES = 50_000;

const API_PROCESSES = 2;
const WORKER_PROCESSES = 3;
const BULK_TENANTS = [21, 22, 23];
const CAMPAIGN_TENANTS = [24, 25];
const CODE_TENANT = 26;
const CODE_EVERY_MS = 100;
const CODE_PATH = '/api/sms/verification/';
/**
 * Code processes of their own (the default; TOPOLOGY_CODE_PROCESSES=false: every process alike):
 * the last api process takes the codes' requests, as a balancer that routes by path would send
 * them, and the last worker only the codes' queue (SMS_WORKER_QUEUES=codes; the others
 * delivery,campaigns). The other processes run at nice TOPOLOGY_BULK_NICE (default 5; 0: as the
 * code processes): on this one shared host, what separate machines would give the code processes.
 */
const CODE_PROCESSES = process.env.TOPOLOGY_CODE_PROCESSES !== 'false';
const BULK_NICE = Number(process.env.TOPOLOGY_BULK_NICE ?? 5);
/** Codes go on this long after the last fault (the replica's stop and its probe). */
const FAULT_TAIL_MS = 10_000;
/** The most codes a run sends: the numbers from OFFSETS.codes up to phoneNumbers' wrap. */
const MAX_CODES = 30_000;
/** Where each kind's numbers start (phoneNumbers wraps at 200,000: every number of a run is distinct). */
const OFFSETS = { bulk: 0, campaign: 100_000, codes: 170_000 };
/** The resolver settles what the killed worker left in `sending` 1-3 minutes after the kill. */
const STALL_MS = 200_000;
const PG_BIN = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** What a fault hook did: injected, or why not. */
export interface FaultOutcome {
  injected: boolean;
  detail: string;
}

export interface TopologyContext {
  stack: Stack;
  runId: string;
  messages: number;
  concurrency: number;
  say: (line: string) => void;
}

/**
 * The backends of the run: a local Redis Cluster (3 masters, 3 replicas; the harness of
 * test/support/redis-cluster.ts) and a streaming replica of the run's PostgreSQL
 * (`pg_basebackup -R -X stream -c fast` as the postgres user, on another port). Both by default;
 * `TOPOLOGY_BACKENDS=single` runs on the test bed's single Redis and PostgreSQL alone.
 */
export interface TopologyBackends {
  cluster?: RedisClusterHandle;
  replica?: PgStandby;
  /** REDIS_CLUSTER_NODES and DATABASE_READ_URL, for every process. */
  env: Record<string, string>;
}

export function topologyWantsBackends(): boolean {
  return process.env.TOPOLOGY_BACKENDS !== 'single';
}

/** How the run's options line names the backends. */
/** The processes' layout, for the report's options. */
export function topologyLayoutLabel(): string {
  return CODE_PROCESSES
    ? `code processes of their own (api2: the codes' requests; worker3: SMS_WORKER_QUEUES=codes; the others at nice ${BULK_NICE})`
    : 'every process alike';
}

export function topologyBackendsLabel(): string {
  return topologyWantsBackends()
    ? 'Redis Cluster (3 masters + 3 replicas), PostgreSQL primary + streaming replica'
    : 'single Redis, single PostgreSQL';
}

export async function startBackends(
  stack: Stack,
  database: string,
  say: (line: string) => void,
): Promise<TopologyBackends> {
  const backends: TopologyBackends = { env: {} };
  if (!topologyWantsBackends()) return backends;
  try {
    // cluster-node-timeout 5 s (the harness's test default is 2 s): on a loaded 2-core host a
    // node that is merely starved for 2 s must not be failed over; a dead one still is in ~6 s.
    const cluster = await startRedisCluster({ nodeTimeoutMs: 5000 });
    backends.cluster = cluster;
    onCleanup('topology redis cluster', () => void cluster.stop());
    backends.env.REDIS_CLUSTER_NODES = cluster.nodes;
    say(`  Redis Cluster up: ${cluster.nodes} (masters ${(await cluster.masters()).join(', ')})`);
    const replica = new PgStandby(stack.pg.port, await freePort(5461), [
      // A hot standby refuses to start with fewer connections than its primary (chaos/infra.ts: 300).
      'max_connections=300',
    ]);
    backends.replica = replica;
    onCleanup('topology replica', () => {
      try {
        execFileSync('su', [
          'postgres',
          '-c',
          `${PG_BIN}/pg_ctl -D ${replica.dataDir} -m immediate -w stop >/dev/null 2>&1 || true`,
        ]);
      } catch {
        /* not running */
      }
    });
    replica.create();
    await replica.start();
    const [{ lsn }] = await queryOnce<{ lsn: string }>(
      stack.pg.url(database),
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    await replica.waitForReplay(lsn, database, 60_000);
    backends.env.DATABASE_READ_URL = replica.url(database);
    say(
      `  read replica up on :${replica.port} (pg_basebackup -R from :${stack.pg.port}), caught up to ${lsn}`,
    );
    return backends;
  } catch (e) {
    await stopBackends(backends);
    throw e;
  }
}

export async function stopBackends(b: TopologyBackends, logDir?: string): Promise<void> {
  // The nodes' logs (failovers, "marked as failing") outlive the cluster's directories.
  if (logDir && b.cluster)
    for (const port of b.cluster.ports)
      try {
        copyFileSync(
          join(tmpdir(), 'sms-redis-cluster', String(port), 'redis.log'),
          join(logDir, `topology-redis-${port}.log`),
        );
      } catch {
        /* no log */
      }
  await b.replica?.cleanup().catch(() => undefined);
  await b.cluster?.stop().catch(() => undefined);
}

/** The Bull key prefix and lane queue names of delivery shard n (as src/messaging/delivery/delivery-queue.ts names them). */
const LANE_QUEUES = ['sms-delivery', 'sms-delivery-campaigns', 'sms-delivery-codes'];

/** Jobs waiting, delayed or active in each delivery shard, by shard index. */
async function shardBacklog(redis: Cluster, prefix: string, shards: number): Promise<number[]> {
  const out: number[] = [];
  for (let n = 0; n < shards; n++) {
    const p = n === 0 ? `{${prefix}}` : `{${prefix}:sms:${n}}`;
    let jobs = 0;
    for (const base of LANE_QUEUES) {
      const q = `${p}:${n === 0 ? base : `${base}.${n}`}`;
      const [wait, active, delayed, prio] = await Promise.all([
        redis.llen(`${q}:wait`),
        redis.llen(`${q}:active`),
        redis.zcard(`${q}:delayed`),
        redis.zcard(`${q}:priority`),
      ]);
      jobs += wait + active + delayed + Math.max(0, prio - wait);
    }
    out.push(jobs);
  }
  return out;
}

export interface RedisFault extends FaultOutcome {
  /** Date.now() when the cluster was whole again (the replica promoted), if it was. */
  promotedAt?: number;
  /** Date.now() of the SIGKILL. */
  killedAt?: number;
  /** Jobs of the killed master's shard at the kill. */
  shardJobs?: number;
}

/**
 * Kills (SIGKILL) the Redis Cluster master that holds the busiest delivery shard's slot, mid-drain,
 * and waits until the cluster has promoted its replica (cluster_state:ok, three live masters).
 */
export async function killRedisMaster(
  b: TopologyBackends,
  prefix: string,
  say: (line: string) => void,
): Promise<RedisFault> {
  const cluster = b.cluster;
  if (!cluster) {
    const detail = 'skipped: single Redis (TOPOLOGY_BACKENDS=single)';
    say(`  killRedisMaster(): ${detail}`);
    return { injected: false, detail };
  }
  const redis = new Cluster(
    cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    { redisOptions: { connectTimeout: 2000 }, clusterRetryStrategy: () => 200 },
  );
  redis.on('error', () => undefined);
  try {
    const shards = Number(process.env.SMS_QUEUE_SHARDS || 6);
    const backlog = await shardBacklog(redis, prefix, shards);
    const busiest = backlog.indexOf(Math.max(...backlog));
    const tag = busiest === 0 ? prefix : `${prefix}:sms:${busiest}`;
    const slot = Number(await redis.cluster('KEYSLOT', tag));
    const master = await cluster.masterOf(slot);
    const killedAt = Date.now();
    await cluster.kill(master);
    // First the slot moves to another node (the cluster marks the master failed and promotes its
    // replica), then the cluster is whole again; before that it can still look healthy.
    const moved = await until(
      async () => (await cluster.masterOf(slot).catch(() => master)) !== master,
      60_000,
      200,
    );
    say(
      `  killRedisMaster(): shard backlogs ${backlog.join('/')}; shard ${busiest} (slot ${slot}) on :${master}: SIGKILLed`,
    );
    try {
      if (!moved) throw new Error('slot not moved');
      await cluster.waitHealthy(60_000);
    } catch {
      const detail = `master :${master} (shard ${busiest}, slot ${slot}, ${backlog[busiest]} jobs) SIGKILLed; no promotion within 60 s`;
      say(`  ${detail}`);
      return { injected: true, detail, shardJobs: backlog[busiest], killedAt };
    }
    const promotedAt = Date.now();
    const now = await cluster.masterOf(slot);
    const detail = `master :${master} (shard ${busiest}, slot ${slot}, ${fmt(backlog[busiest])} jobs) SIGKILLed; :${now} promoted after ${fmt(promotedAt - killedAt)} ms`;
    say(`  ${detail}`);
    return { injected: true, detail, promotedAt, shardJobs: backlog[busiest], killedAt };
  } finally {
    redis.disconnect();
  }
}

/** Stops the PostgreSQL streaming replica mid-drain (`pg_ctl stop -m immediate`); reads must fall back to the primary. */
export async function stopReplica(b: TopologyBackends, say: (line: string) => void): Promise<FaultOutcome> {
  if (!b.replica) {
    const detail = 'skipped: no replica (TOPOLOGY_BACKENDS=single)';
    say(`  stopReplica(): ${detail}`);
    return { injected: false, detail };
  }
  await b.replica.stop();
  const detail = `replica :${b.replica.port} stopped (pg_ctl stop -m immediate)`;
  say(`  stopReplica(): ${detail}`);
  return { injected: true, detail };
}

/** What the api processes' /health/ready said over a fault. */
export interface ReadinessProbe {
  /** `:port status` per answer (`no answer` when none came within 10 s). */
  answers: string[];
  allOk: boolean;
  /** Some answer named the fault's dependency down (readiness `degraded`). */
  named: boolean;
}

/**
 * /health/ready of every api process, rounds apart by `gapMs`, until `more()` says stop: all must
 * answer 200, and one should name what is down (`names` matches the body).
 */
async function probeReadiness(
  top: Topology,
  names: RegExp,
  gapMs: number,
  more: (round: number) => boolean,
): Promise<ReadinessProbe> {
  const probe: ReadinessProbe = { answers: [], allOk: true, named: false };
  for (let round = 0; more(round); round++) {
    if (round > 0) await sleep(gapMs);
    await Promise.all(
      top.apiPorts.map(async (port) => {
        let status = 0;
        let body = '';
        try {
          const res = await fetch(`http://127.0.0.1:${port}/health/ready`, {
            signal: AbortSignal.timeout(10_000),
          });
          status = res.status;
          body = await res.text();
        } catch {
          // no answer: status stays 0
        }
        if (status !== 200) probe.allOk = false;
        if (names.test(body)) probe.named = true;
        probe.answers.push(`:${port} ${status || 'no answer'}`);
      }),
    );
  }
  return probe;
}

/** The two checks of a readiness probe: every answer 200, and what is down named. */
function readinessChecks(during: string, named: string, p: ReadinessProbe | undefined): Check[] {
  const tally = (answers: string[]) =>
    Object.entries(
      answers.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {}),
    )
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
  return [
    check(
      `/health/ready ${during}`,
      p ? tally(p.answers) : 'fault not reached',
      'all 200',
      p ? p.allOk : false,
    ),
    check(named, p ? (p.named ? 'yes' : 'no') : 'n/a', 'yes', p ? p.named : false),
  ];
}

/**
 * From the Redis master's kill to its replica's promotion (`until` settles), every second: one
 * master's slots down is `degraded` naming it (`redis.down`), not unready.
 */
function probeReadinessDuring(top: Topology, until: Promise<unknown>): Promise<ReadinessProbe> {
  let done = false;
  void until.finally(() => (done = true));
  return probeReadiness(top, /"redis":\{"down":\[/, 1000, () => !done);
}

/**
 * While the replica is down: /health/ready of each api process (it must stay 200, naming the
 * replica down once it has noticed) and a replica-routed read (stats) answering 200 from the primary.
 */
async function probeReplicaDown(
  top: Topology,
  tenant: number,
): Promise<{ ready: ReadinessProbe; stats: number }> {
  // Five rounds over ~20 s: the first right after the stop, the last once the replica was noticed down.
  const ready = await probeReadiness(top, /"down":\[[^\]]*"replica"/, 4000, (round) => round < 5);
  const stats = await top.http('GET', '/api/sms/stats', tenant, undefined, 30_000);
  return { ready, stats: stats.status };
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

function check(name: string, figure: number | string, target: string, pass: boolean | null): Check {
  return { name, figure: typeof figure === 'number' ? fmt(figure) : figure, target, pass };
}

/** The processes of the topology and an HTTP client that alternates between the api processes. */
class Topology {
  readonly apis: ServiceProcess[] = [];
  readonly workers: ServiceProcess[] = [];
  readonly apiPorts: number[] = [];
  private turn = 0;
  /** Answers by api process: [2xx, other]; a 503 that a retry then got through counts as other. */
  readonly answers: [number, number][] = [];
  /** Every answer other than 2xx (0: no answer), with when it came. */
  readonly refusals: { at: number; status: number }[] = [];

  constructor(
    private readonly stack: Stack,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.apiPorts.push(this.stack.apiPort);
    for (let i = 1; i < API_PROCESSES; i++) this.apiPorts.push(await freePort(this.apiPorts[i - 1] + 1));
    let metricsPort = 9470;
    const metricsPorts: number[] = [];
    for (let i = 0; i < WORKER_PROCESSES; i++) {
      metricsPort = await freePort(metricsPort + (i === 0 ? 0 : 1));
      metricsPorts.push(metricsPort);
    }
    const log = (name: string) => `${this.stack.opts.logDir}/topology-${name}.log`;
    this.apiPorts.forEach((port, i) => {
      this.answers.push([0, 0]);
      this.apis.push(
        new ServiceProcess(
          `topology/api${i + 1}`,
          'api',
          { ...this.env, PORT: String(port) },
          log(`api${i + 1}`),
          port,
        ),
      );
    });
    metricsPorts.forEach((port, i) =>
      this.workers.push(
        new ServiceProcess(
          `topology/worker${i + 1}`,
          'worker',
          // The worker logs at info: 'sms-service started: role worker' is its readiness signal.
          {
            ...this.env,
            LOG_LEVEL: 'info',
            METRICS_PORT: String(port),
            // With dedicated code processes, the last worker takes only codes, the others the rest.
            ...(CODE_PROCESSES
              ? { SMS_WORKER_QUEUES: i === WORKER_PROCESSES - 1 ? 'codes' : 'delivery,campaigns' }
              : {}),
          },
          log(`worker${i + 1}`),
        ),
      ),
    );
    // Five Node processes booting at once on a small shared host: a generous readiness deadline.
    await Promise.all([...this.apis, ...this.workers].map((p) => p.start(180_000)));
    // The others' CPU priority below the code processes' (their main threads: Linux's nice is per
    // thread), as separate machines would give the code processes cores of their own.
    if (CODE_PROCESSES && BULK_NICE !== 0)
      for (const p of [...this.apis.slice(0, -1), ...this.workers.slice(0, -1)])
        if (p.pid !== undefined) setPriority(p.pid, BULK_NICE);
  }

  async stop(): Promise<void> {
    for (const p of [...this.workers, ...this.apis]) await p.kill();
  }

  /**
   * A request to the next api process in turn; with dedicated code processes (CODE_PROCESSES), the
   * codes go to the last api process and everything else to the others in turn, as a balancer that
   * routes by path would send them.
   */
  async http<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    tenant: number,
    body?: unknown,
    timeoutMs = 60_000,
  ): Promise<HttpResult<T>> {
    const i = !CODE_PROCESSES
      ? this.turn++ % this.apiPorts.length
      : path.startsWith(CODE_PATH)
        ? this.apiPorts.length - 1
        : this.turn++ % (this.apiPorts.length - 1);
    const started = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${this.apiPorts[i]}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.stack.token(tenant)}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      this.answers[i][res.ok ? 0 : 1] += 1;
      if (!res.ok) this.refusals.push({ at: Date.now(), status: res.status });
      let parsed: T | undefined;
      try {
        parsed = JSON.parse(text) as T;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, ms: performance.now() - started, headers: res.headers, body: parsed };
    } catch (e) {
      this.answers[i][1] += 1;
      this.refusals.push({ at: Date.now(), status: 0 });
      const error = e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'connection error';
      return { status: 0, ms: performance.now() - started, error, headers: new Headers(), body: undefined };
    }
  }

  /**
   * A request retried as a client should: a 503 (nothing was stored) again after its Retry-After
   * (at most 5 s), up to 10 times. The answer of the last try.
   */
  async retried<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    tenant: number,
    body?: unknown,
  ): Promise<HttpResult<T> & { tries: number }> {
    for (let tries = 1; ; tries++) {
      const res = await this.http<T>(method, path, tenant, body);
      if (res.status !== 503 || tries === 10) return { ...res, tries };
      const after = Number(res.headers.get('retry-after') ?? 1);
      await sleep(Math.min(5, Number.isFinite(after) ? after : 1) * 1000);
    }
  }

  /** The request (retried on 503) answered `expect`, or an error naming what it answered. */
  async must<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    tenant: number,
    body: unknown,
    expect: number,
  ): Promise<T> {
    const res = await this.retried<T>(method, path, tenant, body);
    if (res.status !== expect || res.body === undefined)
      throw new Error(
        `${method} ${path} answered ${res.status || res.error}: ${JSON.stringify(res.body).slice(0, 300)}`,
      );
    return res.body;
  }
}

/** How many of each kind a run of `messages` sends. */
export function topologyMix(messages: number): { bulk: number; campaign: number; codes: number } {
  const codes = Math.max(20, Math.round(messages * 0.02));
  const campaign = Math.round(messages * 0.3);
  return { bulk: messages - codes - campaign, campaign, codes };
}

/** Splits `total` into `parts` near-equal counts. */
function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

async function prepareCampaign(top: Topology, tenant: number, phones: string[]): Promise<void> {
  await top.must(
    'POST',
    '/api/sms/templates',
    tenant,
    {
      template_id: 'topology_news',
      name: 'Topology news',
      content_en: 'Hello {{name}}, the spring open day is on Friday at 10:00.',
      message_type: 'topology_news',
      variables: ['name'],
    },
    201,
  );
  for (let from = 0; from < phones.length; from += 10_000) {
    const page = phones.slice(from, from + 10_000).map((phone_number, k) => ({
      user_id: `topology-${from + k}`,
      phone_number,
      roles: ['beneficiary'],
      attributes: { name: `R${from + k}` },
    }));
    await top.must('PUT', '/api/sms/recipients', tenant, { recipients: page }, 200);
  }
}

async function executeCampaign(top: Topology, tenant: number): Promise<string> {
  const created = await top.must<{ campaign_id: string }>(
    'POST',
    '/api/sms/campaigns',
    tenant,
    { name: 'Topology', template_id: 'topology_news', recipient_filters: { roles: ['beneficiary'] } },
    201,
  );
  await top.must('POST', `/api/sms/campaigns/${created.campaign_id}/execute`, tenant, {}, 202);
  return created.campaign_id;
}

async function sendBulk(top: Topology, tenant: number, phones: string[], text: string): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < phones.length; i += 10_000) {
    const body = await top.must<{ message_ids: string[]; rejected: unknown[] }>(
      'POST',
      '/api/sms/send-bulk',
      tenant,
      { phone_numbers: phones.slice(i, i + 10_000), message: text },
      202,
    );
    if (body.rejected.length > 0) throw new Error(`send-bulk rejected ${body.rejected.length}`);
    accepted += body.message_ids.length;
  }
  return accepted;
}

interface CodeSent {
  phone: string;
  /** Date.now() just before the POST. */
  at: number;
  acceptMs: number;
  status: number;
  /** 1, or more when a 503 was retried (the times count from the first try). */
  tries: number;
  /** A refusal's rule (its first detail's), else its error. */
  reason?: string;
}

export async function runTopology(ctx: TopologyContext, r: ScenarioResult): Promise<void> {
  const { stack, say } = ctx;
  const databaseUrl = await stack.reset('topology');
  const backends = await startBackends(stack, 'chaos_topology', say);
  const env: Record<string, string> = {
    ...stack.serviceEnv(databaseUrl),
    // Campaigns paced fast enough to drain within the run; codes to many numbers of one range.
    SMS_CAMPAIGN_MPS: '2000',
    // Twilio first, SNS only as its fallback (as in the sigkill scenario): on a saturated host the
    // fake Twilio's latency degrades it and adaptive routing moves first attempts to SNS, which
    // cannot be asked, so a message the killed worker had claimed for SNS ends `unknown`, unsent.
    SMS_ROUTING_ADAPTIVE: 'false',
    // A healthy Twilio, as far as the timeout goes. The fakes answer from the driver's own event
    // loop, which on a saturated host stalls for seconds: at the test bed's 5 s, such stalls were
    // Twilio timeouts, 5 of them in a row opened Twilio's circuit in a worker, and its sends went
    // to SNS for the 30 s cool-down (the reduced run of 2026-12-06: 726 of 5,000 on SNS with
    // Twilio up). 60 s: a stall of the driver is not a provider outage; a real one (the gate
    // down, errors) still falls back at once.
    SMS_PROVIDER_TIMEOUT_MS: '60000',
    SMS_CODE_SENDS_PER_HOUR: '1000',
    SMS_CODE_PREFIX_LIMIT: '1000000',
    ...backends.env,
  };
  const mix = topologyMix(ctx.messages);
  say(
    `  ${API_PROCESSES} api + ${WORKER_PROCESSES} workers; ${fmt(ctx.messages)} messages: bulk ${fmt(mix.bulk)}, ` +
      `campaign ${fmt(mix.campaign)}, codes ${fmt(mix.codes)} or more (every ${CODE_EVERY_MS} ms until the faults are over); backends: ${Object.keys(backends.env).join(', ') || 'single Redis, no replica'}`,
  );
  const top = new Topology(stack, env);
  const db = new Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 2000 });
  db.on('error', () => undefined);
  const text = `Topology ${ctx.runId}: the school is closed on Monday`;
  /** Set when the drain is over (or failed): the fault schedule stops waiting. */
  let finished = false;
  try {
    await top.start();
    const campaignSizes = split(mix.campaign, CAMPAIGN_TENANTS.length);
    let campaignOffset = OFFSETS.campaign;
    const campaignPhones = campaignSizes.map((n) => {
      const phones = phoneNumbers(n, campaignOffset);
      campaignOffset += n;
      return phones;
    });
    await Promise.all(CAMPAIGN_TENANTS.map((t, i) => prepareCampaign(top, t, campaignPhones[i])));
    const provider = stack.providers;
    const started = performance.now();

    // The load: the bulks and the campaigns at once, the codes through the drain.
    const bulkSizes = split(mix.bulk, BULK_TENANTS.length);
    let bulkOffset = OFFSETS.bulk;
    const bulks = BULK_TENANTS.map((t, i) => {
      const phones = phoneNumbers(bulkSizes[i], bulkOffset);
      bulkOffset += bulkSizes[i];
      return sendBulk(top, t, phones, text);
    });
    const campaigns = CAMPAIGN_TENANTS.map((t) => executeCampaign(top, t));
    // Codes every CODE_EVERY_MS: at least mix.codes, and on until FAULT_TAIL_MS after the last
    // fault, so that every fault's windows hold codes however fast the host drains (on a slow
    // host the Redis master's kill came after the first 1,000 codes had all gone).
    let faultsOver = false;
    const codes: Promise<CodeSent>[] = [];
    const codesStart = Date.now();
    const sendingCodes = (async () => {
      for (let i = 0; i < MAX_CODES && (i < mix.codes || !faultsOver); i++) {
        await sleep(Math.max(0, codesStart + i * CODE_EVERY_MS - Date.now()));
        const sent = sendCode(phoneNumbers(1, OFFSETS.codes + i)[0]);
        // Awaited by codesDone once the last is sent; a failure before then is not unhandled.
        sent.catch(() => undefined);
        codes.push(sent);
      }
    })();
    async function sendCode(phone: string): Promise<CodeSent> {
      const at = Date.now();
      const res = await top.retried('POST', '/api/sms/verification/send', CODE_TENANT, {
        phone_number: phone,
        purpose: '2fa',
      });
      const body = res.body as { error?: string; details?: { rule?: string }[] } | undefined;
      const reason =
        res.status === 202
          ? undefined
          : (body?.details?.[0]?.rule ??
            ((body as { message?: string } | undefined)?.message ?? body?.error ?? res.error)?.slice(0, 160));
      return { phone, at, acceptMs: Date.now() - at, status: res.status, tries: res.tries, reason };
    }

    // The driver's own event loop while the codes go: the gates stamp each provider call from it,
    // so its stalls are in the codes' times (reported beside them).
    const driverLag = monitorEventLoopDelay({ resolution: 5 });
    driverLag.enable();
    // And how long the service's processes waited for a core meanwhile (Linux).
    const serviceProcesses = () => [...top.apis, ...top.workers].map((p) => ({ name: p.name, pid: p.pid }));
    const cpuAtCodes = sampleCpuWait(serviceProcesses());
    // Settled now (and awaited below) so that a failure elsewhere leaves no rejection unhandled.
    const codesDone = sendingCodes.then(() => Promise.all(codes));
    codesDone.catch(() => undefined);

    // The faults, each when that share of the load went out.
    const faults: { at: string; what: string; sent: number }[] = [];
    let redisFault: RedisFault | undefined;
    let replicaProbe: Awaited<ReturnType<typeof probeReplicaDown>> | undefined;
    let failoverReadiness: ReadinessProbe | undefined;
    const when = async (share: number) =>
      (await until(() => finished || provider.deliveredCount >= ctx.messages * share, 900_000, 20)) &&
      !finished;
    const faulting = (async () => {
      if (!(await when(0.3))) return;
      const victim = top.workers[1];
      victim.signal('SIGKILL');
      await victim.waitExit(10_000);
      faults.push({ at: '30 %', what: `${victim.name} SIGKILLed`, sent: provider.deliveredCount });
      say(`  SIGKILL ${victim.name} with ${fmt(provider.deliveredCount)} sent`);
      if (!(await when(0.5))) return;
      const sentAtKill = provider.deliveredCount;
      const killing = killRedisMaster(backends, env.REDIS_PREFIX, say);
      const probing = backends.cluster ? probeReadinessDuring(top, killing) : undefined;
      redisFault = await killing;
      failoverReadiness = await probing;
      faults.push({ at: '50 %', what: `Redis master: ${redisFault.detail}`, sent: sentAtKill });
      if (!(await when(0.7))) return;
      const sentAtStop = provider.deliveredCount;
      const replica = await stopReplica(backends, say);
      faults.push({ at: '70 %', what: `replica: ${replica.detail}`, sent: sentAtStop });
      if (replica.injected) replicaProbe = await probeReplicaDown(top, BULK_TENANTS[0]);
    })().finally(async () => {
      await sleep(FAULT_TAIL_MS);
      faultsOver = true;
    });
    faulting.catch(() => undefined);

    // Awaited together: one that fails must not leave the others' rejections unhandled.
    const [bulkCounts, campaignIds] = await Promise.all([Promise.all(bulks), Promise.all(campaigns)]);
    const bulkAccepted = bulkCounts.reduce((a, b) => a + b, 0);
    say(
      `  bulks accepted (${fmt(bulkAccepted)}), campaigns executing, after ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
    const codesSent = await codesDone;
    driverLag.disable();
    const cpuWait = cpuWaitBetween(cpuAtCodes, sampleCpuWait(serviceProcesses()));
    say(
      `  codes sent: ${fmt(codesSent.length)}, the last ${fmt((Date.now() - codesStart) / 1000, 1)} s after the first`,
    );
    // Every campaign row written: then the ledger holds every message of the run.
    await until(async () => {
      const { rows } = await db.query<{ done: boolean }>(
        'SELECT bool_and(snapshot_done) AS done FROM sms_campaigns WHERE id = ANY($1::uuid[])',
        [campaignIds],
      );
      return rows[0].done;
    }, 600_000);
    const ids = (await db.query<{ id: string }>('SELECT id FROM sms_messages')).rows.map((x) => x.id);
    const drainedMs = await drain(db, ids, 900_000);
    finished = true;
    await faulting;
    await sleep(2000);
    const seconds = (performance.now() - started) / 1000;
    say(
      `  drain ${drainedMs === undefined ? 'stopped (no progress or deadline)' : 'finished'} after ${fmt(seconds, 1)} s`,
    );
    outcomeChecks(r, {
      ctx,
      redisFault,
      rows: (
        await db.query<Row>(
          `SELECT id, phone_number, status, message_type, campaign_id IS NOT NULL AS campaign FROM sms_messages`,
        )
      ).rows,
      expected: bulkAccepted + codesSent.filter((c) => c.status === 202).length + mix.campaign,
      codesSent,
      codeSteps: await codeSteps(db, CODE_TENANT),
      cpuWait,
      driverLag: {
        p50: driverLag.percentile(50) / 1e6,
        p99: driverLag.percentile(99) / 1e6,
        max: driverLag.max / 1e6,
      },
      faults,
      top,
      seconds,
      drained: drainedMs !== undefined,
    });
    backendChecks(r, {
      redisFault,
      failoverReadiness,
      replicaProbe,
      backends,
      twilioTimes: provider.twilio.sent.map((m) => m.date.getTime()),
      snsTimes: [...provider.sns.calledAt.values()],
    });
    await fallbackNote(r, db);
    const settled = await resolverSettled(db, ids).catch(() => ({}) as Record<string, number>);
    r.checks.push(
      check(
        'settled by the outcome resolver (the killed worker’s attempts)',
        Object.entries(settled)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ') || 'none',
        'reported',
        null,
      ),
    );
  } finally {
    finished = true;
    await top.stop();
    await db.end().catch(() => undefined);
    await stopBackends(backends, stack.opts.logDir);
  }
}

/** The follow-up checks of the two backend faults. */
function backendChecks(
  r: ScenarioResult,
  o: {
    redisFault?: RedisFault;
    failoverReadiness?: ReadinessProbe;
    replicaProbe?: Awaited<ReturnType<typeof probeReplicaDown>>;
    backends: TopologyBackends;
    twilioTimes: number[];
    snsTimes: number[];
  },
): void {
  if (o.backends.cluster) {
    const at = o.redisFault?.promotedAt;
    const after = at === undefined ? 0 : [...o.twilioTimes, ...o.snsTimes].filter((t) => t > at).length;
    r.checks.push(
      check(
        'Redis failover: a replica promoted',
        o.redisFault?.injected ? (at !== undefined ? 'yes' : 'no (within 60 s)') : 'fault not reached',
        'yes',
        at !== undefined,
      ),
      check(
        'dispatch resumed after the failover (provider calls after the promotion)',
        after,
        '> 0',
        after > 0,
      ),
    );
    r.checks.push(
      ...readinessChecks(
        'from the master’s kill to its replica’s promotion, every second',
        'readiness names the dead master (degraded)',
        o.failoverReadiness,
      ),
    );
  }
  if (o.backends.replica) {
    const p = o.replicaProbe;
    r.checks.push(
      ...readinessChecks(
        'while the replica is down',
        'readiness names the replica down (reads on the primary)',
        p?.ready,
      ),
      check('GET /api/sms/stats while the replica is down', p ? p.stats : 'n/a', '200', p?.stats === 200),
    );
  }
}

/** Why messages went to SNS (the fallback): Twilio's entry in their attempts' `tried`, counted. */
async function fallbackNote(r: ScenarioResult, db: Pool): Promise<void> {
  const { rows } = await db
    .query<{ code: string; n: number }>(
      `SELECT coalesce(t->>'code', 'ok') AS code, count(DISTINCT e.message_id)::int AS n
         FROM sms_messages m JOIN sms_message_events e ON e.message_id = m.id,
              jsonb_array_elements(CASE WHEN jsonb_typeof(e.payload->'tried') = 'array' THEN e.payload->'tried' ELSE '[]'::jsonb END) t
        WHERE m.provider = 'sns' AND t->>'provider' = 'twilio'
        GROUP BY 1 ORDER BY 2 DESC`,
    )
    .catch(() => ({ rows: [] as { code: string; n: number }[] }));
  r.checks.push(
    check(
      'messages on SNS, by what Twilio did first',
      rows.length ? rows.map((x) => `${x.code} ×${fmt(x.n)}`).join(', ') : 'none',
      'reported',
      null,
    ),
  );
}

/**
 * When each code's accept began (its row's `created_at`: the api's clock once the request had
 * passed the guards and validation) and when it was first claimed (its first `sending` event's
 * `at`: the worker's clock as the claim statement left), by destination number: the steps between
 * the POST and the provider call.
 */
async function codeSteps(db: Pool, tenantId: number): Promise<Map<string, CodeStep>> {
  type StepRow = { id: string; phone_number: string; accept_at: number; events: CodeStep['events'] };
  const { rows } = await db
    .query<StepRow>(
      `SELECT m.id, m.phone_number, (extract(epoch FROM m.created_at) * 1000)::float8 AS accept_at,
              coalesce((SELECT jsonb_agg(jsonb_build_object('status', e.status, 'source', e.source,
                                 'at', (extract(epoch FROM e.at) * 1000)::float8, 'payload', e.payload) ORDER BY e.at)
                          FROM sms_message_events e WHERE e.message_id = m.id), '[]'::jsonb) AS events
         FROM sms_messages m
        WHERE m.tenant_id = $1 AND m.message_type = '2fa_code'`,
      [tenantId],
    )
    .catch(() => ({ rows: [] as StepRow[] }));
  return new Map(
    rows.map((x) => [
      x.phone_number,
      {
        id: x.id,
        acceptAt: x.accept_at,
        claimedAt: x.events.find((e) => e.status === 'sending')?.at ?? null,
        events: x.events,
      },
    ]),
  );
}

interface CodeStep {
  id: string;
  /** ms since the epoch */
  acceptAt: number;
  claimedAt: number | null;
  /** The message's events, in order (kept in topology-codes.json for a look at the slow ones). */
  events: { status: string; source: string; at: number; payload: unknown }[];
}

/** p50 / p95 of each step of the codes that went through all of them. */
function codeStepFigures(
  codes: CodeSent[],
  steps: Map<string, CodeStep>,
  firstCall: Map<string, number>,
): string {
  const whole = codes.flatMap((c) => {
    const s = steps.get(c.phone);
    const call = firstCall.get(c.phone);
    return c.status === 202 && s && s.claimedAt !== null && call !== undefined
      ? [{ accept: s.acceptAt - c.at, claimed: s.claimedAt - s.acceptAt, called: call - s.claimedAt }]
      : [];
  });
  if (whole.length === 0) return 'none';
  const pair = (ms: number[]) => `${fmt(percentile(ms, 50))} / ${fmt(percentile(ms, 95))} ms`;
  return [
    `accept began ${pair(whole.map((x) => x.accept))}`,
    `claimed ${pair(whole.map((x) => x.claimed))}`,
    `called ${pair(whole.map((x) => x.called))}`,
    `(${fmt(whole.length)} codes)`,
  ].join(' · ');
}

interface Row {
  id: string;
  phone_number: string;
  status: string;
  message_type: string;
  campaign: boolean;
}

/** Waits until every id is settled; the time it took, or undefined at the deadline or a stall. */
async function drain(db: Pool, ids: string[], deadlineMs: number): Promise<number | undefined> {
  const started = performance.now();
  let last = Number.NaN;
  let lastChange = started;
  while (performance.now() - started < deadlineMs) {
    const left = await unsettled(db, ids).catch(() => Number.NaN);
    if (left === 0) return performance.now() - started;
    if (!Number.isNaN(left) && left !== last) {
      last = left;
      lastChange = performance.now();
    }
    if (performance.now() - lastChange > STALL_MS) return undefined;
    await sleep(500);
  }
  return undefined;
}

/**
 * The accepted codes' POST → provider call p95 per 10 s window from the first code, e.g.
 * `0–10 s 1,801 ms (101) · 10–20 s 189 ms (100) · 50–60 s F 8,903 ms (100)`: where in the run the
 * slow ones were (the load's start, the failover, the rest).
 */
function byWindow(
  codes: CodeSent[],
  firstCall: Map<string, number>,
  inFailover: (at: number) => boolean,
): string {
  const sent = codes.filter((c) => c.status === 202 && firstCall.has(c.phone));
  if (sent.length === 0) return 'none';
  const start = Math.min(...sent.map((c) => c.at));
  const windows = new Map<number, { ms: number[]; failover: boolean }>();
  for (const c of sent) {
    const k = Math.floor((c.at - start) / 10_000);
    const w = windows.get(k) ?? { ms: [], failover: false };
    w.ms.push((firstCall.get(c.phone) as number) - c.at);
    w.failover ||= inFailover(c.at);
    windows.set(k, w);
  }
  return [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([k, w]) =>
        `${k * 10}–${k * 10 + 10} s ${w.failover ? 'F ' : ''}${fmt(percentile(w.ms, 95))} ms (${w.ms.length})`,
    )
    .join(' · ');
}

function outcomeChecks(
  r: ScenarioResult,
  o: {
    ctx: TopologyContext;
    rows: Row[];
    expected: number;
    codesSent: CodeSent[];
    /** How long runnable work waited for a core while the codes went. */
    cpuWait: CpuWait;
    /** When each code's accept began and when it was first claimed (ms since the epoch), by number. */
    codeSteps: Map<string, CodeStep>;
    /** The driver's event-loop delay while the codes went (ms). */
    driverLag: { p50: number; p99: number; max: number };
    redisFault?: RedisFault;
    faults: { at: string; what: string; sent: number }[];
    top: Topology;
    seconds: number;
    drained: boolean;
  },
): void {
  const { twilio, sns } = o.ctx.stack.providers;
  // Provider calls per destination number (every message of the run has its own number).
  const calls = new Map<string, number>();
  for (const m of twilio.sent) calls.set(m.to, (calls.get(m.to) ?? 0) + 1);
  for (const m of sns.published) calls.set(m.phoneNumber, (calls.get(m.phoneNumber) ?? 0) + 1);
  // When each number's first send reached a provider: the gate's stamp (the provider's front
  // door), the earlier of the two providers'.
  const firstCall = new Map<string, number>(twilio.calledAt);
  for (const [phone, t] of sns.calledAt)
    if (!firstCall.has(phone) || t < (firstCall.get(phone) as number)) firstCall.set(phone, t);
  // The same as the fake Twilio recorded it, after the gate's relay (how the runs before
  // 2026-12-06 22:50 UTC measured; reported for comparison).
  const relayed = new Map<string, number>();
  for (const m of twilio.sent)
    if (!relayed.has(m.to) || m.date.getTime() < (relayed.get(m.to) as number))
      relayed.set(m.to, m.date.getTime());
  const numbers = new Set(o.rows.map((x) => x.phone_number));
  const statuses: Record<string, number> = {};
  let once = 0;
  let doubled = 0;
  let never = 0;
  for (const row of o.rows) {
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
    const n = calls.get(row.phone_number) ?? 0;
    if (n === 1) once += 1;
    else if (n > 1) doubled += 1;
    else never += 1;
  }
  const strangers = [...calls.keys()].filter((k) => !numbers.has(k)).length;
  const notFinal = o.rows.filter((x) => !FINAL_STATUSES.includes(x.status)).length;
  const codeMs = o.codesSent
    .filter((c) => c.status === 202 && firstCall.has(c.phone))
    .map((c) => (firstCall.get(c.phone) as number) - c.at);
  const refusedBy: Record<string, number> = {};
  for (const c of o.codesSent.filter((x) => x.status !== 202)) {
    const k = `${c.status ? String(c.status) : 'no answer'}${c.reason ? ` ${c.reason}` : ''}`;
    refusedBy[k] = (refusedBy[k] ?? 0) + 1;
  }
  const codesRefused = o.codesSent.filter((c) => c.status !== 202).length;
  const unknown = o.rows.filter((x) => x.status === 'unknown').length;
  const codesUnsent = o.codesSent.filter((c) => c.status === 202 && !firstCall.has(c.phone)).length;
  // Each code's times, for a look at when the slow ones were (beside the processes' logs).
  writeFileSync(
    join(o.ctx.stack.opts.logDir, 'topology-codes.json'),
    JSON.stringify(
      o.codesSent.map((c) => {
        const step = o.codeSteps.get(c.phone);
        return {
          ...c,
          providerMs: firstCall.has(c.phone) ? (firstCall.get(c.phone) as number) - c.at : null,
          acceptMsApi: step ? step.acceptAt - c.at : null,
          claimedMs: step?.claimedAt == null ? null : step.claimedAt - c.at,
          id: step?.id,
          events: step?.events.map((e) => ({ ...e, at: e.at - c.at })),
          relayedMs: relayed.has(c.phone) ? (relayed.get(c.phone) as number) - c.at : null,
        };
      }),
    ),
  );
  // The codes POSTed while their tenant's keys may have had no master: fail closed (503 or a wait).
  const kill = o.redisFault?.killedAt;
  const whole = (o.redisFault?.promotedAt ?? Infinity) + 2_000;
  const outside = o.codesSent
    .filter((c) => c.status === 202 && firstCall.has(c.phone))
    .filter((c) => kill === undefined || c.at < kill || c.at > whole)
    .map((c) => (firstCall.get(c.phone) as number) - c.at);
  const viaRelay = o.codesSent
    .filter((c) => c.status === 202 && relayed.has(c.phone))
    .map((c) => (relayed.get(c.phone) as number) - c.at);
  const inFailover = (at: number) => kill !== undefined && at >= kill && at <= whole;
  const failover503 = o.top.refusals.filter((x) => x.status === 503 && inFailover(x.at)).length;
  const otherRefusals = o.top.refusals.filter((x) => !(x.status === 503 && inFailover(x.at)));
  const target = Number(process.env.TOPOLOGY_CODE_TARGET_MS ?? 100);
  const p95 = percentile(codeMs, 95);
  const times = [...firstCall.values()];
  const span = (Math.max(...times) - Math.min(...times)) / 1000;
  const sent = calls.size;
  const kinds = {
    bulk: o.rows.filter((x) => !x.campaign && x.message_type !== '2fa_code').length,
    campaign: o.rows.filter((x) => x.campaign).length,
    codes: o.rows.filter((x) => x.message_type === '2fa_code').length,
  };
  r.checks.push(
    check(
      'messages accepted (rows)',
      `${fmt(o.rows.length)} (bulk ${fmt(kinds.bulk)}, campaign ${fmt(kinds.campaign)}, codes ${fmt(kinds.codes)})`,
      `${fmt(o.expected)} (what the api answered 202 for, and the campaigns' recipients)`,
      o.rows.length === o.expected,
    ),
    check(
      'sent exactly once (one provider call to the number)',
      once,
      `all ${fmt(o.rows.length)}`,
      once === o.rows.length,
    ),
    check('doubled (more than one provider call)', doubled, '0', doubled === 0),
    check('never sent', never, '0', never === 0),
    check('provider calls to numbers of no message', strangers, '0', strangers === 0),
    check('rows not final at the end', notFinal, '0', notFinal === 0),
    check(
      'verification code: POST → provider call',
      `p95 ${fmt(p95)} ms, p50 ${fmt(percentile(codeMs, 50))} ms, max ${fmt(Math.max(...codeMs))} ms (${fmt(codeMs.length)} codes)`,
      `p95 ≤ ${fmt(target)} ms`,
      codeMs.length > 0 && p95 <= target,
    ),
    check(
      'verification code: POST → provider call, the codes sent outside the Redis failover (from the kill to 2 s after the promotion)',
      outside.length
        ? `p95 ${fmt(percentile(outside, 95))} ms, p50 ${fmt(percentile(outside, 50))} ms (${fmt(outside.length)} codes)`
        : 'none',
      'reported',
      null,
    ),
    check(
      'verification code: POST → provider call, p95 by 10 s window from the first code (codes in it; F: the window holds the Redis failover)',
      byWindow(o.codesSent, firstCall, inFailover),
      'reported',
      null,
    ),
    check(
      'verification code: POST → the fake Twilio’s record, after the gate’s relay (how runs measured before)',
      viaRelay.length
        ? `p95 ${fmt(percentile(viaRelay, 95))} ms, p50 ${fmt(percentile(viaRelay, 50))} ms (${fmt(viaRelay.length)} codes)`
        : 'none',
      'reported',
      null,
    ),
    check(
      "the driver's event-loop delay while the codes went (the gates stamp provider calls from it)",
      `p50 ${fmt(o.driverLag.p50, 1)} ms, p99 ${fmt(o.driverLag.p99)} ms, max ${fmt(o.driverLag.max)} ms`,
      'reported',
      null,
    ),
    check(
      'waiting for a core while the codes went (the host: share of the time some task waited, Linux PSI; each process’s event loop: share of the time it ran on a core, and waited for one, and the mean wait per time slice)',
      formatCpuWait(o.cpuWait),
      'reported',
      null,
    ),
    check(
      'codes retried after a 503 (the times count from the first try)',
      o.codesSent.filter((c) => c.tries > 1).length,
      'reported',
      null,
    ),
    check(
      'verification code: its steps, p50 / p95 (POST → the accept began, the api’s clock; → first claim, the worker’s; → provider call, the gate’s)',
      codeStepFigures(o.codesSent, o.codeSteps, firstCall),
      'reported',
      null,
    ),
    check(
      'verification code: POST → 202',
      `p95 ${fmt(
        percentile(
          o.codesSent.map((c) => c.acceptMs),
          95,
        ),
      )} ms`,
      'reported',
      null,
    ),
    check(
      'codes refused or not sent',
      `${codesRefused} refused${
        codesRefused
          ? ` (${Object.entries(refusedBy)
              .map(([k, v]) => `${k}×${v}`)
              .join(', ')})`
          : ''
      }, ${codesUnsent} accepted and not sent`,
      '0',
      codesRefused + codesUnsent === 0,
    ),
    check('rows left unknown', unknown, '0', unknown === 0),
    check(
      'api answers other than 2xx',
      o.top.answers.map(([, bad], i) => `api${i + 1}: ${bad} of ${o.top.answers[i][0] + bad}`).join(', '),
      'reported',
      null,
    ),
    // A 503 while a killed master's slots wait for their replica is the fail-closed limits' answer
    // to a message other than a code (nothing stored, Retry-After: 1; the driver retries it; a
    // code's limits are counted on the ledger meanwhile): reported. Any other is a fault.
    check(
      "of them, 503s during the Redis failover (from the kill to 2 s after the promotion; limits but codes' fail closed, each retried)",
      failover503,
      'reported',
      null,
    ),
    check(
      'api answers other than 2xx, but for the failover’s 503s',
      otherRefusals.length
        ? `${otherRefusals.length} (${Object.entries(
            otherRefusals.reduce<Record<string, number>>((m, x) => {
              m[x.status] = (m[x.status] ?? 0) + 1;
              return m;
            }, {}),
          )
            .map(([k, v]) => `${k === '0' ? 'no answer' : k}×${v}`)
            .join(', ')})`
        : '0',
      '0',
      otherRefusals.length === 0,
    ),
    check(
      'throughput (first to last provider call)',
      `${fmt(sent / span)} msg/s (${fmt(sent)} in ${fmt(span, 1)} s; whole run ${fmt(o.seconds, 1)} s)`,
      'reported',
      null,
    ),
    ...o.faults.map((f) => check(`fault at ${f.at}`, `${f.what} (${fmt(f.sent)} sent)`, 'reported', null)),
    check('drain settled', o.drained ? 'yes' : 'no (stalled or past the deadline)', 'yes', o.drained),
  );
  r.notes.push(
    `${fmt(o.rows.length)} messages; statuses ${Object.entries(statuses)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}; ${fmt(twilio.sent.length)} Twilio and ${fmt(sns.published.length)} SNS calls`,
  );
}
