/**
 * (i) A verification code under load: the time from `POST /api/sms/verification/send` to the
 * code's provider call (its claim, the 'sending' event written just before the call, as in
 * bench/phases/campaign.ts) while a 10,000-number send-bulk and a 10,000-recipient campaign
 * drain at once, the sandbox provider answering in 200 ms. Target: p95 ≤ 100 ms.
 *
 * Every code also reports its accept (POST → 202, the row committed and its job added) apart,
 * so a miss says whether the code waited to be stored or to be handed over.
 */
import { BenchContext, Figure, fmt, percentile } from '../context';
import { CODE_LIMITS, prepareCampaign, runCampaign, timeCodes } from './campaign';

const BULK_TENANT = 10;
const CAMPAIGN_TENANT = 11;
const CODE_TENANT = 12;
const LOAD = 10_000;
const CODES = Number(process.env.BENCH_CODES ?? 40);
/** The setting's default: what a worker process runs with unless told otherwise. */
const CONCURRENCY = process.env.BENCH_CODES_CONCURRENCY ?? '20';
const MPS = '500';
const TARGET_MS = 100;

export async function codesUnderLoad(ctx: BenchContext): Promise<Figure[]> {
  const { db } = ctx;
  const svc = await ctx.startService({
    APP_ROLE: 'all',
    SANDBOX_LATENCY_MS: '200',
    SMS_WORKER_CONCURRENCY: CONCURRENCY,
    SMS_CAMPAIGN_MPS: MPS,
    ...CODE_LIMITS,
  });
  try {
    await prepareCampaign(ctx, CAMPAIGN_TENANT, LOAD, 40_000);
    await timeCodes(ctx, CODE_TENANT, 60_000, 10); // warm-up (JIT, pools)
    const idle = await timeCodes(ctx, CODE_TENANT, 60_100, 20);

    // Both loads at once: the bulk's accept and the campaign's snapshot overlap too.
    const [bulk, campaign] = await Promise.all([
      ctx.postBulk(BULK_TENANT, ctx.numbers(LOAD, 20_000)),
      runCampaign(ctx, CAMPAIGN_TENANT),
    ]);
    const sentBefore = await sentSoFar(ctx, bulk.batchId, campaign.id);
    const t0 = performance.now();
    const under = await timeCodes(ctx, CODE_TENANT, 61_000, CODES);
    const seconds = (performance.now() - t0) / 1000;
    const sentAfter = await sentSoFar(ctx, bulk.batchId, campaign.id);
    const { rows } = await db.query(
      `SELECT count(*) FILTER (WHERE batch_id = $1)::int AS bulk, count(*) FILTER (WHERE campaign_id = $2)::int AS campaign
         FROM sms_messages WHERE (batch_id = $1 OR campaign_id = $2) AND status IN ('queued', 'scheduled')`,
      [bulk.batchId, campaign.id],
    );
    const waiting = rows[0] as { bulk: number; campaign: number };
    if (waiting.bulk === 0 || waiting.campaign === 0)
      ctx.notes.push(
        `(i) a load had drained before the last code (still queued: ${JSON.stringify(waiting)}).`,
      );

    const claim = under.map((t) => t.claim);
    const accept = under.map((t) => t.accept);
    const [p50, p95, max] = [percentile(claim, 0.5), percentile(claim, 0.95), Math.max(...claim)];
    const [idle95, accept95] = [
      percentile(
        idle.map((t) => t.claim),
        0.95,
      ),
      percentile(accept, 0.95),
    ];
    const rate = (k: 'bulk' | 'campaign') => (sentAfter[k] - sentBefore[k]) / seconds;
    ctx.rows.push({
      name: `(i) verification code: POST → provider call, a 10,000 send-bulk and a 10,000 campaign draining, provider 200 ms, concurrency ${CONCURRENCY}`,
      figure:
        `p95 ${fmt(p95)} ms, p50 ${fmt(p50)} ms, max ${fmt(max)} ms (${CODES} codes; POST → 202 p95 ${fmt(accept95)} ms; ` +
        `idle p95 ${fmt(idle95)} ms; meanwhile bulk ${fmt(rate('bulk'), 1)} and campaign ${fmt(rate('campaign'), 1)} msg/s sent, ` +
        `${fmt(waiting.bulk)} and ${fmt(waiting.campaign)} still queued)`,
      target: `p95 ≤ ${TARGET_MS} ms`,
      ratio: '',
      met: p95 <= TARGET_MS,
    });
    const label = '(i) code POST → provider call under bulk + campaign';
    return [
      { key: 'i.p95', label: `${label}, p95`, value: p95, unit: 'ms', better: 'lower' },
      { key: 'i.p50', label: `${label}, p50`, value: p50, unit: 'ms', better: 'lower' },
      {
        key: 'i.accept.p95',
        label: `${label}: POST → 202, p95`,
        value: accept95,
        unit: 'ms',
        better: 'lower',
      },
      {
        key: 'i.idle.p95',
        label: '(i) the same with no load, p95',
        value: idle95,
        unit: 'ms',
        better: 'lower',
      },
      { key: 'i.bulk', label: '(i) bulk sent meanwhile', value: rate('bulk'), unit: 'msg/s', better: null },
      {
        key: 'i.campaign',
        label: '(i) campaign sent meanwhile',
        value: rate('campaign'),
        unit: 'msg/s',
        better: null,
      },
    ];
  } finally {
    await ctx.stopService(svc);
  }
}

async function sentSoFar(
  ctx: BenchContext,
  batchId: string,
  campaignId: string,
): Promise<{ bulk: number; campaign: number }> {
  const { rows } = await ctx.db.query(
    `SELECT count(*) FILTER (WHERE batch_id = $1)::int AS bulk, count(*) FILTER (WHERE campaign_id = $2)::int AS campaign
       FROM sms_messages WHERE (batch_id = $1 OR campaign_id = $2) AND status NOT IN ('queued', 'scheduled', 'sending')`,
    [batchId, campaignId],
  );
  return rows[0] as { bulk: number; campaign: number };
}
