/**
 * Traffic during an outage: a single send every 250 ms and a readiness check every second, each
 * on its own (a hung request does not delay the next), to see how the api answers meanwhile.
 */
import { percentile } from './figures';
import { Deployment, HttpResult } from './stack';

export interface ProbeSummary {
  requests: number;
  accepted: number;
  serverErrors: number;
  /** 5xx other than 503, and requests that got no answer at all. */
  unexpected: number;
  unavailableWithRetryAfter: number;
  unavailable: number;
  p50: number;
  p99: number;
  max: number;
  /** Distinct answers of /health/ready, e.g. "503 redis down". */
  readiness: string[];
  statuses: Record<string, number>;
}

export class OutageProbe {
  readonly acceptedIds: string[] = [];
  private readonly sends: Promise<HttpResult<{ message_id?: string }>>[] = [];
  private readonly health: Promise<{ line: string; at: number }>[] = [];
  private timers: NodeJS.Timeout[] = [];
  private next = 0;

  constructor(
    private readonly dep: Deployment,
    private readonly tenant: number,
    private readonly message: string,
    private readonly numbers: string[],
  ) {}

  start(): void {
    this.timers.push(setInterval(() => this.send(), 250));
    this.timers.push(
      setInterval(
        () => this.health.push(readiness(this.dep).then((line) => ({ line, at: performance.now() }))),
        1000,
      ),
    );
  }

  /** `outageEndedAt`: readiness answers that came after it are not counted. */
  async stop(outageEndedAt: number): Promise<ProbeSummary> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const results = await Promise.all(this.sends);
    const ready = [
      ...new Set((await Promise.all(this.health)).filter((h) => h.at < outageEndedAt).map((h) => h.line)),
    ];
    const ms = results.map((r) => r.ms);
    const statuses: Record<string, number> = {};
    for (const r of results) {
      const key = r.status ? String(r.status) : (r.error ?? 'no answer');
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (r.status === 202 && r.body?.message_id) this.acceptedIds.push(r.body.message_id);
    }
    const unavailable = results.filter((r) => r.status === 503);
    return {
      requests: results.length,
      accepted: results.filter((r) => r.status === 202).length,
      serverErrors: results.filter((r) => r.status >= 500).length,
      unexpected: results.filter((r) => r.status === 0 || (r.status >= 500 && r.status !== 503)).length,
      unavailable: unavailable.length,
      unavailableWithRetryAfter: unavailable.filter((r) => r.headers.get('retry-after')).length,
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      max: Math.max(0, ...ms),
      readiness: ready,
      statuses,
    };
  }

  private send(): void {
    const to = this.numbers[this.next++ % this.numbers.length];
    this.sends.push(
      this.dep.http('POST', '/api/sms/send', {
        tenant: this.tenant,
        body: { phone_number: to, message: this.message },
        timeoutMs: 15_000,
      }),
    );
  }
}

/** Components a readiness body reports as neither up nor ok, or as having parts down, wherever they sit in it. */
function unwell(value: unknown, key = '', found = new Set<string>()): Set<string> {
  if (typeof value !== 'object' || value === null) return found;
  const status = (value as { status?: unknown }).status;
  if (key && typeof status === 'string' && !['up', 'ok'].includes(status)) found.add(`${key} ${status}`);
  // A part that is up with some of its own parts down (providers with an open circuit).
  const down = (value as { down?: unknown }).down;
  if (key && Array.isArray(down) && down.length > 0) found.add(`${key} down: ${down.join(', ')}`);
  for (const [k, v] of Object.entries(value)) unwell(v, k, found);
  return found;
}

/** One line for an answer of /health/ready, e.g. "503 error (database down)". */
export async function readiness(dep: Deployment): Promise<string> {
  const res = await dep.http<{ status?: unknown }>('GET', '/health/ready', { timeoutMs: 5000 });
  if (!res.status) return res.error ?? 'no answer';
  const top = typeof res.body?.status === 'string' ? ` ${res.body.status}` : '';
  const parts = [...unwell(res.body)];
  return `${res.status}${top}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
