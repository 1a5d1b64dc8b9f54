/**
 * The scripted faults of issue 7. Each one deploys a fresh service (its own database, an empty
 * Redis), injects one fault, waits for the outcome within a bounded time and returns checks
 * against the issue's targets.
 */
import { countStatus, notFinal, outcome, Outcome, resolverSettled, unsettled, waitFinal } from './figures';
import { OutageProbe, ProbeSummary, readiness } from './probe';
import { ledgerKey } from './providers';
import { Deployment, phoneNumbers, Stack } from './stack';
import { sleep, until } from './wait';

export const SCENARIOS = [
  'sigkill',
  'redis',
  'postgres',
  'providers',
  'idempotency',
  'receipts',
  'sigterm',
] as const;
export type ScenarioKey = (typeof SCENARIOS)[number];

export interface Check {
  name: string;
  figure: string;
  target: string;
  /** null: reported, no target. */
  pass: boolean | null;
}

export interface ScenarioResult {
  /** A scenario of the full run, or `topology` (run alone: chaos/topology.ts). */
  key: ScenarioKey | 'topology';
  title: string;
  seconds: number;
  outcome?: Outcome;
  checks: Check[];
  notes: string[];
  error?: string;
}

export interface ScenarioContext {
  stack: Stack;
  runId: string;
  /** Messages in the scenario's drain. */
  size: (key: ScenarioKey) => number;
  concurrency: number;
  providerOutageMs: number;
  say: (line: string) => void;
}

type Run = (ctx: ScenarioContext, result: ScenarioResult) => Promise<void>;

export const TITLES: Record<ScenarioKey, string> = {
  sigkill: 'worker SIGKILL at 30 % of a drain, then a new worker',
  redis: 'Redis killed for 10 s mid-drain, restarted empty',
  postgres: 'PostgreSQL stopped for 10 s mid-drain, then started',
  providers: 'Twilio and SNS both down, then up',
  idempotency: '200 concurrent POST /send with one Idempotency-Key and body',
  receipts: 'delivery receipts racing the worker',
  sigterm: 'worker SIGTERM at 30 % of a drain',
};

/** Messages per drain: the issue's 10,000 for the SIGKILL, less where the fault does not need it. */
export const DEFAULT_SIZES: Record<ScenarioKey, number> = {
  sigkill: 10_000,
  redis: 5000,
  postgres: 5000,
  providers: 2000,
  idempotency: 1,
  receipts: 1000,
  sigterm: 5000,
};

const TENANT = 1;
const PROBE_OFFSET = 150_000;
/** A drain that makes no progress this long has stopped (Bull re-runs a dead worker's jobs after 30-60 s). */
const STALL_MS = 75_000;
/**
 * After a SIGKILL: the rows the dead worker left in 'sending' are the outcome resolver's once they
 * are SMS_STUCK_SENDING_MINUTES (1) old, at its next minute tick, so up to two minutes after the
 * kill. That tick settles those Twilio has as 'sent'; the others it shows 'unknown' while the
 * grace period (2 minutes after the attempt) runs, and the tick after it queues them again. A
 * drain waits that long (and a margin) before calling them stranded.
 */
const RESOLVER_STALL_MS = 200_000;

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const seconds = (ms: number | undefined) =>
  ms === undefined ? 'not within the deadline' : `${fmt(ms / 1000, 1)} s`;

function check(name: string, figure: number | string, target: string, pass: boolean | null): Check {
  return { name, figure: typeof figure === 'number' ? fmt(figure) : figure, target, pass };
}

/** The checks every scenario shares. */
function core(o: Outcome): Check[] {
  return [check('lost', o.lost, '0', o.lost === 0), check('doubled', o.doubled, '0', o.doubled === 0)];
}

function describe(o: Outcome): string {
  const statuses = Object.entries(o.statuses)
    .map(([s, n]) => `${s} ${fmt(n)}`)
    .join(', ');
  const codes = Object.entries(o.failedCodes)
    .map(([c, n]) => `${c} ${fmt(n)}`)
    .join(', ');
  return (
    `${fmt(o.accepted)} accepted, ${fmt(o.received)} reached a provider; rows: ${statuses}` +
    (codes ? `; failed codes: ${codes}` : '') +
    (o.missingRows ? `; ${fmt(o.missingRows)} accepted ids without a row` : '') +
    (o.receivedUnaccepted ? `; ${fmt(o.receivedUnaccepted)} went out without an accepted id` : '')
  );
}

function outageChecks(what: 'redis' | 'postgres', p: ProbeSummary): Check[] {
  // Terminus calls PostgreSQL 'database'.
  const names = what === 'postgres' ? ['database', 'postgres'] : ['redis'];
  const codes = Object.entries(p.statuses)
    .map(([s, n]) => `${s}×${n}`)
    .join(', ');
  return [
    check(`answers to POST /send during the ${what} outage`, `${p.requests}: ${codes}`, 'reported', null),
    check(
      `5xx other than 503, or no answer, during the ${what} outage`,
      p.unexpected,
      '0',
      p.unexpected === 0,
    ),
    check(
      `503 answers carrying Retry-After`,
      `${p.unavailableWithRetryAfter} of ${p.unavailable}`,
      'all',
      p.unavailableWithRetryAfter === p.unavailable,
    ),
    check(
      `latency of POST /send during the ${what} outage`,
      `p50 ${fmt(p.p50)} ms, p99 ${fmt(p.p99)} ms, max ${fmt(p.max)} ms`,
      'max ≤ 1,000 ms',
      p.max <= 1000,
    ),
    check(
      `/health/ready during the ${what} outage`,
      p.readiness.join('; ') || 'n/a',
      `503 naming ${what}`,
      p.readiness.length > 0 &&
        p.readiness.every((r) => r.startsWith('503') && names.some((n) => r.includes(`${n} down`))),
    ),
  ];
}

/** Waits for every id to be final, giving up at `deadlineMs` or after STALL_MS without progress. */
async function drain(
  dep: Deployment,
  ids: string[],
  deadlineMs: number,
  stallMs = STALL_MS,
  remaining: (db: Deployment['db'], ids: string[]) => Promise<number> = notFinal,
): Promise<number | undefined> {
  const started = performance.now();
  let last = Number.NaN;
  let lastChange = started;
  while (performance.now() - started < deadlineMs) {
    const left = await remaining(dep.db, ids).catch(() => Number.NaN);
    if (left === 0) return performance.now() - started;
    if (!Number.isNaN(left) && left !== last) {
      last = left;
      lastChange = performance.now();
    }
    if (performance.now() - lastChange > stallMs) return undefined;
    await sleep(500);
  }
  return undefined;
}

/** Waits until `count` messages went out (both providers), polling the fakes' records. */
function reached(ctx: ScenarioContext, count: number, timeoutMs = 180_000): Promise<boolean> {
  return until(() => ctx.stack.providers.deliveredCount >= count, timeoutMs, 10);
}

function body(ctx: ScenarioContext, key: ScenarioKey): string {
  return `Chaos ${key} ${ctx.runId}: your appointment is confirmed for tomorrow`;
}

const sigkill: Run = async (ctx, r) => {
  const dep = await ctx.stack.deploy('sigkill', 1);
  try {
    const ids = await dep.sendBulk(TENANT, phoneNumbers(ctx.size('sigkill'), 0), body(ctx, 'sigkill'));
    const at = Math.round(ctx.size('sigkill') * 0.3);
    if (!(await reached(ctx, at))) r.notes.push(`the drain never reached ${fmt(at)} messages`);
    dep.workers[0].signal('SIGKILL');
    await dep.workers[0].waitExit(10_000);
    const atKill = ctx.stack.providers.deliveredCount;
    const sendingAtKill = await countStatus(dep.db, ids, 'sending');
    ctx.say(`  killed the worker with ${fmt(atKill)} sent, ${fmt(sendingAtKill)} rows in sending`);
    await dep.startWorker();
    // Until the resolver has settled what the dead worker left, not merely shown it 'unknown'.
    const drained = await drain(dep, ids, 360_000, RESOLVER_STALL_MS, unsettled);
    await sleep(2000);
    const o = await outcome(dep.db, ids, [body(ctx, 'sigkill')], ctx.stack.providers);
    r.outcome = o;
    const sent = (o.statuses.sent ?? 0) + (o.statuses.delivered ?? 0);
    const viaSns = ctx.stack.providers.sns.published.length;
    const resolved = await resolverSettled(dep.db, ids);
    r.checks.push(
      ...core(o),
      // Twilio is healthy and SNS is only configured as its fallback (SMS_PROVIDERS twilio,sns).
      check('messages SNS received (Twilio the only provider in use)', viaSns, '0', viaSns === 0),
      check('rows left unknown', o.unknown, '0', o.unknown === 0),
      check(
        'messages sent (row sent or delivered, and received by a provider)',
        `${fmt(sent)} rows, ${fmt(o.received)} received, of ${fmt(o.accepted)}`,
        'all',
        sent === o.accepted && o.received === o.accepted,
      ),
      check('rows in sending right after the kill', sendingAtKill, 'reported', null),
      check(
        'settled by the outcome resolver',
        `${fmt(resolved.sent ?? 0)} found at Twilio (sent), ${fmt(resolved.queued ?? 0)} not (queued again)`,
        'reported',
        null,
      ),
      check(
        'rows left in sending (stranded)',
        o.stranded,
        `≤ ${ctx.concurrency} (SMS_WORKER_CONCURRENCY)`,
        o.stranded <= ctx.concurrency,
      ),
      check('failed rows that a provider received', o.failedButReceived, '0', o.failedButReceived === 0),
      check('drain finished after the new worker started', seconds(drained), 'reported', null),
    );
  } finally {
    await dep.stop();
  }
};

/** Notes when the fakes last received a message, polling every 20 ms. */
class SendClock {
  firstAt = Number.NaN;
  lastAt = Number.NaN;
  private seen = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly count: () => number) {
    this.timer = setInterval(() => this.tick(), 20);
  }

  tick(): void {
    const n = this.count();
    if (n > this.seen) {
      if (this.seen === 0) this.firstAt = performance.now();
      this.seen = n;
      this.lastAt = performance.now();
    }
  }

  stop(): void {
    this.tick();
    clearInterval(this.timer);
  }
}

/**
 * Shared by the Redis and PostgreSQL outages. How fast dispatch resumes is measured without
 * knowing how the worker holds its jobs: the time it took, after the backend returned, to send
 * what was left, minus the time that work takes at the rate measured before the fault.
 */
async function backendOutage(
  ctx: ScenarioContext,
  r: ScenarioResult,
  key: 'redis' | 'postgres',
  down: () => Promise<void>,
  up: () => Promise<void>,
): Promise<void> {
  const dep = await ctx.stack.deploy(key, 1);
  const clock = new SendClock(() => ctx.stack.providers.deliveredCount);
  try {
    const text = body(ctx, key);
    const probeText = `${text} (probe)`;
    const ids = await dep.sendBulk(TENANT, phoneNumbers(ctx.size(key), 0), text);
    const at = Math.round(ctx.size(key) * 0.3);
    if (!(await reached(ctx, at))) r.notes.push(`the drain never reached ${fmt(at)} messages`);
    clock.tick();
    const atFault = ctx.stack.providers.deliveredCount;
    const rate = (atFault - 1) / ((clock.lastAt - clock.firstAt) / 1000);
    const probe = new OutageProbe(dep, TENANT, probeText, phoneNumbers(2000, PROBE_OFFSET));
    await down();
    const downAt = performance.now();
    ctx.say(`  ${key} down with ${fmt(atFault)} sent (${fmt(rate)} msg/s before)`);
    probe.start();
    await sleep(10_000);
    const outageEndedAt = performance.now();
    await up();
    const upAt = performance.now();
    const p = await probe.stop(outageEndedAt);
    const atUp = ctx.stack.providers.deliveredCount;
    const sendingAtUp = await countStatus(dep.db, ids, 'sending').catch(() => Number.NaN);
    const resumed = await until(() => ctx.stack.providers.deliveredCount > atUp, 150_000, 20);
    const firstAfterMs = resumed ? performance.now() - upAt : undefined;
    const all = [...ids, ...probe.acceptedIds];
    const drained = await drain(dep, all, 180_000);
    await sleep(2000);
    clock.stop();
    const afterUp = ctx.stack.providers.deliveredCount - atUp;
    const o = await outcome(dep.db, all, [text, probeText], ctx.stack.providers);
    // Until everything accepted went out (or reached a final status) dispatch has not resumed.
    const delayMs = o.lost > 0 ? undefined : Math.max(0, clock.lastAt - upAt - (afterUp / rate) * 1000);
    ctx.say(
      `  ${key} back after ${fmt((upAt - downAt) / 1000, 1)} s; first send ${seconds(firstAfterMs)} later; ` +
        `${fmt(afterUp)} sent after it returned, dispatch delay ${seconds(delayMs)}`,
    );
    r.outcome = o;
    r.checks.push(
      ...core(o),
      check(
        `dispatch delay after ${key} returned`,
        `${seconds(delayMs)} (${fmt(afterUp)} sent in ${seconds(clock.lastAt - upAt)}; ${fmt(rate)} msg/s before the fault)`,
        '≤ 10 s',
        delayMs !== undefined && delayMs <= 10_000,
      ),
      check(`first message sent after ${key} returned`, seconds(firstAfterMs), 'reported', null),
      check('rows in sending when it returned', sendingAtUp, 'reported', null),
      check(
        'rows left in sending (stranded)',
        o.stranded,
        `≤ ${ctx.concurrency} (SMS_WORKER_CONCURRENCY)`,
        o.stranded <= ctx.concurrency,
      ),
      check('failed rows that a provider received', o.failedButReceived, '0', o.failedButReceived === 0),
      ...outageChecks(key, p),
      check('all final after the outage', seconds(drained), 'reported', null),
    );
  } finally {
    clock.stop();
    await dep.stop();
  }
}

const redis: Run = (ctx, r) =>
  backendOutage(
    ctx,
    r,
    'redis',
    () => ctx.stack.redis.kill(),
    () => ctx.stack.redis.start(),
  );

const postgres: Run = (ctx, r) =>
  backendOutage(
    ctx,
    r,
    'postgres',
    () => ctx.stack.pg.stop(),
    () => ctx.stack.pg.start(),
  );

const providers: Run = async (ctx, r) => {
  const count = ctx.size('providers');
  const dep = await ctx.stack.deploy('providers', 1, {
    // Short settings where the service has them (unknown names are ignored by older builds).
    SMS_CIRCUIT_COOLDOWN_MS: '5000',
    SMS_RETRY_BASE_MS: '1000',
    SMS_OUTAGE_TOLERANCE_MINUTES: '5',
  });
  const { twilioGate, snsGate } = ctx.stack.providers;
  try {
    await twilioGate.set('unavailable');
    await snsGate.set('refuse');
    const text = body(ctx, 'providers');
    const ids = await dep.sendBulk(TENANT, phoneNumbers(count, 0), text);
    const seenReady = new Set<string>();
    const downUntil = performance.now() + ctx.providerOutageMs;
    while (performance.now() < downUntil) {
      seenReady.add(await readiness(dep));
      await sleep(Math.min(5000, Math.max(0, downUntil - performance.now())));
    }
    const failedDuringOutage = await countStatus(dep.db, ids, 'failed');
    ctx.say(
      `  providers up after ${fmt(ctx.providerOutageMs / 1000)} s; ${fmt(failedDuringOutage)} failed by then`,
    );
    await twilioGate.set('up');
    await snsGate.set('up');
    const drained = await drain(dep, ids, 150_000);
    await sleep(2000);
    const o = await outcome(dep.db, ids, [text], ctx.stack.providers);
    r.outcome = o;
    r.checks.push(
      ...core(o),
      check('failed', o.failed, '0 (every message delivered)', o.failed === 0),
      check('failed while both were down', failedDuringOutage, 'reported', null),
      check(
        'requests that reached the providers while down',
        `twilio 503 ×${fmt(twilioGate.seen.unavailable)}, sns refused`,
        'reported',
        null,
      ),
      check(
        '/health/ready while both were down',
        [...seenReady].join('; '),
        '200 degraded, naming twilio and sns',
        [...seenReady].some((s) => /^200 .*degraded/.test(s) && s.includes('twilio') && s.includes('sns')),
      ),
      check('drain finished after they came back', seconds(drained), 'reported', null),
    );
  } finally {
    await twilioGate.set('up');
    await snsGate.set('up');
    await dep.stop();
  }
};

const idempotency: Run = async (ctx, r) => {
  const dep = await ctx.stack.deploy('idempotency', 1);
  try {
    const text = body(ctx, 'idempotency');
    const [to, other] = phoneNumbers(2, 0);
    const key = `chaos-${ctx.runId}`;
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        dep.http<{ message_id?: string }>('POST', '/api/sms/send', {
          tenant: TENANT,
          body: { phone_number: to, message: text },
          headers: { 'Idempotency-Key': key },
          timeoutMs: 10_000,
        }),
      ),
    );
    const statuses: Record<string, number> = {};
    for (const res of results) {
      const k = res.status ? String(res.status) : (res.error ?? 'no answer');
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    const replays = results.filter((x) => x.status === 202 && x.headers.get('idempotent-replayed')).length;
    const first = results.filter((x) => x.status === 202 && !x.headers.get('idempotent-replayed')).length;
    const conflicts = results.filter((x) => x.status === 409);
    const conflictsRetryAfter = conflicts.filter((x) => x.headers.get('retry-after')).length;
    const noAnswer = results.filter((x) => x.status === 0 || x.status >= 500).length;
    const ids = [...new Set(results.map((x) => (x.status === 202 ? x.body?.message_id : undefined)))].filter(
      (x): x is string => !!x,
    );
    // Right after: a plain send and a history page must answer normally.
    const after = await Promise.all([
      dep.http('POST', '/api/sms/send', {
        tenant: TENANT,
        body: { phone_number: other, message: text },
        timeoutMs: 5000,
      }),
      dep.http('GET', '/api/sms/history?limit=1', { tenant: TENANT, timeoutMs: 5000 }),
    ]);
    await waitFinal(dep.db, ids, 15_000);
    await sleep(2000);
    const { rows } = await dep.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sms_messages WHERE phone_number = $1',
      [to],
    );
    const calls = ctx.stack.providers.ledger().get(ledgerKey(to, text)) ?? 0;
    const o = await outcome(dep.db, ids, [text], ctx.stack.providers);
    r.outcome = o;
    r.checks.push(
      ...core(o),
      check(
        'answers',
        Object.entries(statuses)
          .map(([s, n]) => `${s}×${n}`)
          .join(', '),
        'reported',
        null,
      ),
      check('rows stored', rows[0].n, '1', rows[0].n === 1),
      check('provider calls', calls, '1', calls === 1),
      check('first answers (202 not replayed)', first, '1', first === 1),
      check(
        'the others: replay (202 Idempotent-Replayed) or 409 with Retry-After',
        `${replays} replays, ${conflictsRetryAfter} of ${conflicts.length} 409s with Retry-After`,
        '199',
        replays + conflictsRetryAfter === 199,
      ),
      check('timeouts, 5xx or no answer', noAnswer, '0', noAnswer === 0),
      check(
        'plain /send and /history right after',
        after.map((a) => (a.status ? `${a.status} in ${fmt(a.ms)} ms` : `${a.error}`)).join(', '),
        '2xx within 5 s',
        after.every((a) => a.status >= 200 && a.status < 300),
      ),
    );
  } finally {
    await dep.stop();
  }
};

const receipts: Run = async (ctx, r) => {
  const count = ctx.size('receipts');
  const dep = await ctx.stack.deploy('receipts', 1);
  const { twilio } = ctx.stack.providers;
  try {
    twilio.receiptsRaceTheWorker = true;
    const text = body(ctx, 'receipts');
    const ids = await dep.sendBulk(TENANT, phoneNumbers(count, 0), text);
    const drained = await drain(dep, ids, 120_000);
    await until(() => twilio.callbacks.sent >= twilio.sent.length, 30_000, 50);
    await twilio.callbacksSettled();
    // A receipt the service answered 2xx must show as delivered; give it a few seconds.
    const pendingReceipts = async () => {
      const { rows } = await dep.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM sms_messages
          WHERE id = ANY($1::uuid[]) AND provider_message_id = ANY($2) AND status <> 'delivered'`,
        [ids, [...twilio.callbacks.accepted]],
      );
      return rows[0].n;
    };
    await until(async () => (await pendingReceipts()) === 0, 15_000, 500);
    const lostReceipts = await pendingReceipts();
    const o = await outcome(dep.db, ids, [text], ctx.stack.providers);
    r.outcome = o;
    const other = Object.entries(twilio.callbacks.answeredOther)
      .map(([s, n]) => `${s}×${n}`)
      .join(', ');
    r.checks.push(
      ...core(o),
      check(
        'delivered callbacks answered 2xx',
        `${fmt(twilio.callbacks.answered2xx)} of ${fmt(twilio.callbacks.sent)}${other ? ` (others: ${other})` : ''}`,
        'all',
        twilio.callbacks.answered2xx === twilio.callbacks.sent,
      ),
      check(
        'receipts taken but the row not delivered (lost receipts)',
        lostReceipts,
        '0',
        lostReceipts === 0,
      ),
      check('drain finished', seconds(drained), 'reported', null),
    );
  } finally {
    twilio.receiptsRaceTheWorker = false;
    await dep.stop();
  }
};

const sigterm: Run = async (ctx, r) => {
  const dep = await ctx.stack.deploy('sigterm', 1);
  try {
    const text = body(ctx, 'sigterm');
    const ids = await dep.sendBulk(TENANT, phoneNumbers(ctx.size('sigterm'), 0), text);
    const at = Math.round(ctx.size('sigterm') * 0.3);
    if (!(await reached(ctx, at))) r.notes.push(`the drain never reached ${fmt(at)} messages`);
    const worker = dep.workers[0];
    const atSignal = ctx.stack.providers.deliveredCount;
    const signalAt = new Date();
    worker.signal('SIGTERM');
    let exitMs = await worker.waitExit(30_000);
    const atExit = ctx.stack.providers.deliveredCount;
    if (exitMs === undefined) {
      r.notes.push('the worker had not exited 30 s after SIGTERM; it was killed');
      await worker.kill();
      exitMs = undefined;
    }
    const after = atExit - atSignal;
    // Attempts the worker started after the signal: claims (each writes a 'sending' event, at the
    // time its statement was sent) of messages it had not taken before.
    const [{ claimed }] = (
      await dep.db.query(
        `SELECT count(*)::int AS claimed FROM sms_message_events
          WHERE message_id = ANY($1::uuid[]) AND status = 'sending' AND at > $2`,
        [ids, signalAt],
      )
    ).rows as { claimed: number }[];
    ctx.say(
      `  SIGTERM with ${fmt(atSignal)} sent; exited after ${seconds(exitMs)}, ${fmt(after)} sent and ${fmt(claimed)} claimed meanwhile`,
    );
    await dep.startWorker();
    const drained = await drain(dep, ids, 240_000);
    await sleep(2000);
    const o = await outcome(dep.db, ids, [text], ctx.stack.providers);
    r.outcome = o;
    r.checks.push(
      ...core(o),
      check(
        'time to exit after SIGTERM',
        seconds(exitMs),
        '≤ 10 s',
        exitMs !== undefined && exitMs <= 10_000,
      ),
      check(
        'messages claimed after SIGTERM (attempts started)',
        claimed,
        `≤ ${ctx.concurrency} (a claim each slot sent before the signal reached it)`,
        claimed <= ctx.concurrency,
      ),
      // Counted where the fake provider receives them: per slot, a request already on its way
      // and a message claimed before the signal (sent, not dropped) may both arrive after it.
      check(
        'messages sent after SIGTERM',
        after,
        `≤ ${2 * ctx.concurrency} (per slot: one on its way, one claimed)`,
        after <= 2 * ctx.concurrency,
      ),
      check(
        'rows left in sending (stranded)',
        o.stranded,
        `≤ ${ctx.concurrency} (SMS_WORKER_CONCURRENCY)`,
        o.stranded <= ctx.concurrency,
      ),
      check('drain finished after the new worker started', seconds(drained), 'reported', null),
    );
  } finally {
    await dep.stop();
  }
};

const RUNS: Record<ScenarioKey, Run> = {
  sigkill,
  redis,
  postgres,
  providers,
  idempotency,
  receipts,
  sigterm,
};

export async function runScenario(ctx: ScenarioContext, key: ScenarioKey): Promise<ScenarioResult> {
  const r: ScenarioResult = { key, title: TITLES[key], seconds: 0, checks: [], notes: [] };
  const started = performance.now();
  ctx.say(`▶ ${key}: ${TITLES[key]}`);
  try {
    await RUNS[key](ctx, r);
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  }
  r.seconds = (performance.now() - started) / 1000;
  if (r.outcome) r.notes.unshift(describe(r.outcome));
  const failed = r.checks.filter((c) => c.pass === false).map((c) => c.name);
  ctx.say(
    `  ${key}: ${r.error ? `ERROR ${r.error}` : failed.length ? `FAIL (${failed.join('; ')})` : 'PASS'}` +
      (r.outcome
        ? ` — lost ${r.outcome.lost}, doubled ${r.outcome.doubled}, stranded ${r.outcome.stranded}`
        : '') +
      ` [${fmt(r.seconds)} s]`,
  );
  return r;
}
