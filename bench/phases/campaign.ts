/**
 * Campaign figures (issue 10): the snapshot time and drain rate of a 10,000-recipient campaign,
 * and the p95 time from `POST /api/sms/verification/send` to the provider call, with no campaign
 * and while that campaign drains (the priority lanes). bench/phases/codes.ts reuses the helpers.
 *
 * "The provider call" is the code's claim: its 'sending' event, written just before the worker
 * calls the provider. Both clocks are this machine's.
 */
import { BenchContext, Figure, fmt, percentile, until } from '../context';

const TENANT = 9;
const RECIPIENTS = Number(process.env.BENCH_CAMPAIGN_RECIPIENTS ?? 10_000);
/** Codes timed per measurement, one every CODE_EVERY_MS. */
const CODES = Number(process.env.BENCH_CAMPAIGN_CODES ?? 40);
export const CODE_EVERY_MS = 200;
const PROVIDER_LATENCY_MS = process.env.BENCH_CAMPAIGN_LATENCY_MS ?? '20';
const MPS = process.env.BENCH_CAMPAIGN_MPS ?? '500';
const CODE_TARGET_MS = 2_000;
/** What the service needs to take hundreds of codes to numbers of one range in a minute. */
export const CODE_LIMITS = { SMS_CODE_SENDS_PER_HOUR: '1000', SMS_CODE_PREFIX_LIMIT: '100000' };

/** A request as the tenant's admin; throws unless it answers `expect`. */
export async function call(
  ctx: BenchContext,
  tenant: number,
  method: string,
  path: string,
  body: unknown,
  expect: number,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${ctx.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ctx.token(tenant)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expect)
    throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** One timed code: ms from its POST to the 202 (accept), and to its claim (the provider call). */
export interface CodeTiming {
  accept: number;
  claim: number;
}

/**
 * Sends `count` verification codes as the tenant, one every CODE_EVERY_MS (each POST on its own
 * schedule, not after the previous answer), to numbers from `offset`; answers each one's times.
 */
export async function timeCodes(
  ctx: BenchContext,
  tenant: number,
  offset: number,
  count = CODES,
): Promise<CodeTiming[]> {
  const phones = ctx.numbers(count, offset);
  const sent = await Promise.all(
    phones.map(async (phone, i) => {
      await new Promise((r) => setTimeout(r, i * CODE_EVERY_MS));
      const at = Date.now();
      const body = await call(
        ctx,
        tenant,
        'POST',
        '/api/sms/verification/send',
        { phone_number: phone, purpose: '2fa' },
        202,
      );
      return { id: body.message_id as string, at, accept: Date.now() - at };
    }),
  );
  const claimed = await until('the codes to be claimed', 120_000, async () => {
    const { rows } = await ctx.db.query(
      `SELECT message_id::text AS id, min(at) AS at FROM sms_message_events
        WHERE message_id = ANY($1::uuid[]) AND status = 'sending' GROUP BY message_id`,
      [sent.map((s) => s.id)],
    );
    return rows.length === sent.length
      ? new Map(rows.map((r) => [r.id, new Date(r.at).getTime()]))
      : undefined;
  });
  return sent.map((s) => ({ accept: s.accept, claim: (claimed.get(s.id) as number) - s.at }));
}

/** The campaign template and `recipients` directory entries (role beneficiary) of the tenant. */
export async function prepareCampaign(
  ctx: BenchContext,
  tenant: number,
  recipients: number,
  offset: number,
): Promise<void> {
  await call(
    ctx,
    tenant,
    'POST',
    '/api/sms/templates',
    {
      template_id: 'bench_news',
      name: 'Bench news',
      content_en: 'Hello {{name}}, the spring open day is on Friday at 10:00.',
      message_type: 'bench_news',
      variables: ['name'],
    },
    201,
  );
  const phones = ctx.numbers(recipients, offset);
  for (let from = 0; from < recipients; from += 10_000) {
    const page = phones.slice(from, from + 10_000).map((phone_number, k) => ({
      user_id: `bench-${from + k}`,
      phone_number,
      roles: ['beneficiary'],
      attributes: { name: `R${from + k}` },
    }));
    await call(ctx, tenant, 'PUT', '/api/sms/recipients', { recipients: page }, 200);
  }
}

/** Creates and executes the campaign; answers its id and the ms from execute to its snapshot's end. */
export async function runCampaign(
  ctx: BenchContext,
  tenant: number,
): Promise<{ id: string; snapshotMs: number }> {
  const created = await call(
    ctx,
    tenant,
    'POST',
    '/api/sms/campaigns',
    { name: 'Bench', template_id: 'bench_news', recipient_filters: { roles: ['beneficiary'] } },
    201,
  );
  const id = created.campaign_id as string;
  const started = performance.now();
  await call(ctx, tenant, 'POST', `/api/sms/campaigns/${id}/execute`, {}, 202);
  const snapshotMs = await until('the snapshot', 300_000, async () => {
    const { rows } = await ctx.db.query('SELECT snapshot_done FROM sms_campaigns WHERE id = $1', [id]);
    return rows[0]?.snapshot_done ? performance.now() - started : undefined;
  });
  return { id, snapshotMs };
}

export async function campaignScenario(ctx: BenchContext): Promise<Figure[]> {
  const { db } = ctx;
  const svc = await ctx.startService({
    APP_ROLE: 'all',
    SANDBOX_LATENCY_MS: PROVIDER_LATENCY_MS,
    SMS_WORKER_CONCURRENCY: '20',
    SMS_CAMPAIGN_MPS: MPS,
    ...CODE_LIMITS,
  });
  try {
    await prepareCampaign(ctx, TENANT, RECIPIENTS, 50_000);

    // With no campaign: the reference.
    await timeCodes(ctx, TENANT, 70_000); // warm-up (JIT, pools)
    const idle = (await timeCodes(ctx, TENANT, 71_000)).map((t) => t.claim);

    const started = performance.now();
    const { id, snapshotMs } = await runCampaign(ctx, TENANT);
    const during = (await timeCodes(ctx, TENANT, 72_000)).map((t) => t.claim);
    const { rows: pending } = await db.query(
      `SELECT count(*)::int AS n FROM sms_messages WHERE campaign_id = $1 AND status IN ('queued', 'scheduled')`,
      [id],
    );
    if (pending[0].n === 0)
      ctx.notes.push(
        'campaign: the campaign had drained before the last code; raise BENCH_CAMPAIGN_RECIPIENTS.',
      );
    const drainedMs = await until('the campaign to drain', 900_000, async () => {
      const { rows } = await db.query(
        `SELECT count(*) FILTER (WHERE status IN ('queued', 'scheduled', 'sending'))::int AS left,
                count(*)::int AS n FROM sms_messages WHERE campaign_id = $1`,
        [id],
      );
      return rows[0].left === 0 ? performance.now() - started : undefined;
    });
    const { rows: counts } = await db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'sent')::int AS sent,
              extract(epoch FROM max(sent_at) - min(sent_at)) AS span
         FROM sms_messages WHERE campaign_id = $1`,
      [id],
    );
    const { n, sent, span } = counts[0] as { n: number; sent: number; span: string | null };
    if (sent !== RECIPIENTS) ctx.notes.push(`campaign: ${sent} of ${RECIPIENTS} messages sent (${n} rows).`);
    const drainRate = sent / Math.max(0.001, Number(span ?? 0));
    const [idle95, during95] = [percentile(idle, 0.95), percentile(during, 0.95)];

    ctx.rows.push({
      name: `(h) campaign of ${fmt(RECIPIENTS)} recipients: snapshot`,
      figure: `${fmt(snapshotMs)} ms (execute → every message row written and queued)`,
      target: 'reported',
      ratio: '',
      met: null,
    });
    ctx.rows.push({
      name: `(h) campaign drain, SMS_CAMPAIGN_MPS=${MPS}, provider ${PROVIDER_LATENCY_MS} ms`,
      figure: `${fmt(drainRate, 1)} msg/s (first to last hand-over; execute → drained ${fmt(drainedMs / 1000, 1)} s)`,
      target: `≤ ${MPS} msg/s (paced)`,
      ratio: `${fmt((drainRate / Number(MPS)) * 100, 1)} %`,
      met: drainRate <= Number(MPS) * 1.02,
    });
    ctx.rows.push({
      name: '(h) verification code: POST → provider call, no campaign',
      figure: `p95 ${fmt(idle95)} ms (${CODES} codes)`,
      target: `p95 ≤ ${fmt(CODE_TARGET_MS)} ms`,
      ratio: '',
      met: idle95 <= CODE_TARGET_MS,
    });
    ctx.rows.push({
      name: '(h) verification code: POST → provider call, campaign draining',
      figure: `p95 ${fmt(during95)} ms (${CODES} codes; ${fmt(pending[0].n)} campaign messages still queued after the last)`,
      target: `p95 ≤ ${fmt(CODE_TARGET_MS)} ms`,
      ratio: '',
      met: during95 <= CODE_TARGET_MS,
    });
    return [
      {
        key: 'campaign.snapshot',
        label: `(h) campaign of ${fmt(RECIPIENTS)}: snapshot`,
        value: snapshotMs,
        unit: 'ms',
        better: 'lower',
      },
      {
        key: 'campaign.drain',
        label: `(h) campaign drain at SMS_CAMPAIGN_MPS=${MPS}`,
        value: drainRate,
        unit: 'msg/s',
        better: null,
      },
      {
        key: 'campaign.code.idle.p95',
        label: '(h) code POST → provider call, no campaign, p95',
        value: idle95,
        unit: 'ms',
        better: 'lower',
      },
      {
        key: 'campaign.code.during.p95',
        label: '(h) code POST → provider call, campaign draining, p95',
        value: during95,
        unit: 'ms',
        better: 'lower',
      },
    ];
  } finally {
    await ctx.stopService(svc);
  }
}
