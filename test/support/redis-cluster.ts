import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freshTenantId } from './ids';

const run = promisify(execFile);

/**
 * A local Redis Cluster for tests and chaos scenarios: 3 masters and 3 replicas on loopback, each a
 * `redis-server --cluster-enabled yes` of its own (no persistence), joined by
 * `redis-cli --cluster create … --cluster-replicas 1`. `nodes` is the REDIS_CLUSTER_NODES value.
 *
 * Ports: 6 consecutive free ones from `basePort` (default: the first free block of 7100, 7110, …),
 * whose cluster bus ports (+10000) are free too; several runs side by side take different blocks.
 * Each node's directory is `<tmpdir>/sms-redis-cluster/<port>`: a run that crashed left its servers
 * there, and the next start on that block ends them (only redis-servers started from that very
 * directory) before it starts its own.
 */
export interface RedisClusterHandle {
  ports: number[];
  /** REDIS_CLUSTER_NODES: every node, `127.0.0.1:port,…`. */
  nodes: string;
  /** The ports of the nodes that are masters now. */
  masters(): Promise<number[]>;
  /** The port of the live master that serves `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** SIGKILLs one node (no shutdown, no save): a crashed machine. */
  kill(port: number): Promise<void>;
  /** SIGSTOPs one node: its connections stay open and nothing answers (a machine cut off). */
  pause(port: number): void;
  /** SIGCONTs a paused node. */
  resume(port: number): void;
  /** Resolves when every live node says cluster_state:ok and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes its directory. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  basePort?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over (small for tests). */
  nodeTimeoutMs?: number;
}

const ROOT = join(tmpdir(), 'sms-redis-cluster');
const NODES = 6;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function pidOf(dir: string): number | null {
  const file = join(dir, 'redis.pid');
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The process is a redis-server working in `dir` (not another process that reused the pid). */
function isOurServer(pid: number, dir: string): boolean {
  try {
    return (
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server') &&
      readlinkSync(`/proc/${pid}/cwd`) === dir
    );
  } catch {
    return false;
  }
}

/** Ends what a crashed run left on these ports (our own servers only) and removes their directories. */
function clearLeftovers(ports: number[]): void {
  for (const port of ports) {
    const dir = join(ROOT, String(port));
    if (!existsSync(dir)) continue;
    const pid = pidOf(dir);
    if (pid !== null && isOurServer(pid, dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pickPorts(basePort?: number): Promise<number[]> {
  const candidates = basePort !== undefined ? [basePort] : [...Array(40).keys()].map((i) => 7100 + i * 10);
  for (const base of candidates) {
    const ports = [...Array(NODES).keys()].map((i) => base + i);
    clearLeftovers(ports);
    const free = await Promise.all(ports.flatMap((p) => [portFree(p), portFree(p + 10000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free block of 6 ports (and their bus ports) for a Redis Cluster');
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5000,
  });
  return stdout;
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The masters that serve slots and are not marked failed, as node `port` sees them: port and slot ranges. */
async function servingMasterNodes(port: number): Promise<{ port: number; ranges: [number, number][] }[]> {
  return (await cli(port, 'cluster', 'nodes'))
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length >= 9)
    .filter(([, , flags]) => flags.split(',').includes('master') && !flags.includes('fail'))
    .map((f) => ({
      port: Number(/:(\d+)@/.exec(f[1])?.[1]),
      ranges: f
        .slice(8)
        .filter((r) => /^\d+(-\d+)?$/.test(r))
        .map((r) => {
          const [a, b] = r.split('-').map(Number);
          return [a, b ?? a] as [number, number];
        }),
    }));
}

async function servingMasters(port: number): Promise<number[]> {
  return (await servingMasterNodes(port)).map((m) => m.port);
}

export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const ports = await pickPorts(opts.basePort);
  const nodeTimeout = opts.nodeTimeoutMs ?? 2000;
  const dirs = ports.map((p) => join(ROOT, String(p)));
  const killed = new Set<number>();
  /** SIGSTOPped: asked nothing (a redis-cli to it would wait out its timeout) until resumed. */
  const paused = new Set<number>();
  const live = () => ports.filter((p) => !killed.has(p) && !paused.has(p));
  const stop = async () => {
    for (const [i, port] of ports.entries()) {
      const pid = pidOf(dirs[i]);
      if (pid === null || killed.has(port) || !isOurServer(pid, dirs[i])) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (existsSync(ROOT) && readdirSync(ROOT).length === 0) rmSync(ROOT, { recursive: true, force: true });
  };
  const waitHealthy = (timeoutMs = 30_000) =>
    until('cluster_state:ok', timeoutMs, async () => {
      for (const p of live())
        if (!(await cli(p, 'cluster', 'info')).includes('cluster_state:ok')) return false;
      // Three masters serve the slots, none of them marked failed, none of them killed (right
      // after a kill the others still count the dead master in until cluster-node-timeout).
      const masters = await servingMasters(live()[0]);
      if (masters.length !== 3 || masters.some((p) => killed.has(p))) return false;
      // And every replica in sync: one that has not been (a paused master come back as its
      // replica's replica, still loading) could not be promoted should its master be killed next.
      return replicasInSync(live());
    });
  const replicasInSync = async (nodes: number[]) => {
    for (const p of nodes) {
      const info = await cli(p, 'info', 'replication');
      if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
    }
    return true;
  };
  try {
    for (const [i, port] of ports.entries()) {
      mkdirSync(dirs[i], { recursive: true });
      await run(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dirs[i], 'nodes.conf'),
          '--cluster-node-timeout',
          String(nodeTimeout),
          // As operations.md advises: the masters that serve go on serving while a dead master's
          // slots wait for their replica. With the default (yes), once the dead master is marked
          // failed every node answers CLUSTERDOWN to every key until the promotion (~1 s in the
          // topology runs: the request-rate guard's reads of healthy slots waited out the bound).
          '--cluster-require-full-coverage',
          'no',
          '--dir',
          dirs[i],
          '--pidfile',
          join(dirs[i], 'redis.pid'),
          '--logfile',
          join(dirs[i], 'redis.log'),
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'yes',
        ],
        { cwd: dirs[i] },
      );
    }
    await until('the nodes to answer', 10_000, async () => {
      for (const p of ports) if ((await cli(p, 'ping')).trim() !== 'PONG') return false;
      return true;
    });
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await waitHealthy();
    // A replica that has never been in sync may not fail over (its data would be too old): a
    // master killed right after the start would stay down.
    await until('every replica in sync with its master', 30_000, () => replicasInSync(ports));
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    ports,
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    async masters() {
      return (await servingMasters(live()[0])).filter((p) => !killed.has(p));
    },
    async masterOf(slot) {
      const m = (await servingMasterNodes(live()[0])).find((n) =>
        n.ranges.some(([a, b]) => slot >= a && slot <= b),
      );
      if (!m) throw new Error(`no live master serves slot ${slot}`);
      return m.port;
    },
    async kill(port) {
      const pid = pidOf(dirs[ports.indexOf(port)]);
      if (pid === null) throw new Error(`no pid for the Redis node on ${port}`);
      killed.add(port);
      process.kill(pid, 'SIGKILL');
    },
    pause(port) {
      const pid = pidOf(dirs[ports.indexOf(port)]);
      if (pid === null) throw new Error(`no pid for the Redis node on ${port}`);
      process.kill(pid, 'SIGSTOP');
      paused.add(port);
    },
    resume(port) {
      const pid = pidOf(dirs[ports.indexOf(port)]);
      if (pid !== null) process.kill(pid, 'SIGCONT');
      paused.delete(port);
    },
    waitHealthy,
    stop,
  };
}

/**
 * A fresh tenant whose slot `victimSlot(tenant)` is served by a master that serves none of
 * `apartSlots(tenant)`, with that master's port: a fault on it reaches only the one step under test.
 * `on`: that master must be this one (a second tenant for a master already chosen).
 */
export async function tenantApart(
  cluster: RedisClusterHandle,
  victimSlot: (tenant: number) => number,
  apartSlots: (tenant: number) => number[],
  on?: number,
): Promise<{ tenant: number; victim: number }> {
  for (let tries = 0; tries < 500; tries++) {
    const tenant = freshTenantId();
    const victim = await cluster.masterOf(victimSlot(tenant));
    if (on !== undefined && victim !== on) continue;
    const others = await Promise.all(apartSlots(tenant).map((s) => cluster.masterOf(s)));
    if (!others.includes(victim)) return { tenant, victim };
  }
  throw new Error('no tenant found whose slots are apart');
}
