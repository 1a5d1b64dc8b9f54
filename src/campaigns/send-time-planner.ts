import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { bestHour, chooseSendTime, recipientZone, ResponseSample, SendTimeBasis } from '../core';
import { ExperimentLedger, PastResponse } from '../messaging';
import { countryOfNumber } from '../phone';
import { TenantsService } from '../tenancy';
import type { Planned } from './campaign-plan';

/** How far back a recipient's and the tenant's responses are read. */
export const RESPONSE_LOOKBACK_DAYS = 90;

/**
 * Delivery-time optimisation (issue 25, item 4) for a campaign page: each recipient's send time
 * within the window, at the local hour their past messages were answered soonest (a verified code
 * or the first click on a tracked link, whichever came first; see ExperimentLedger), else the tenant's best hour, else
 * the window's start. The choice is the pure `chooseSendTime`; this reads the history. The accept
 * path then applies quiet hours to the time, which still bind.
 */
@Injectable()
export class SendTimePlanner {
  constructor(
    private readonly ledger: ExperimentLedger,
    private readonly tenants: TenantsService,
    private readonly clock: Clock,
  ) {}

  /** Send time per recipient user id, and how many took each rule. */
  async plan(
    tenantId: number,
    planned: Planned[],
    window: { start: Date; end: Date },
  ): Promise<Map<string, Date>> {
    return (await this.planWithBasis(tenantId, planned, window)).times;
  }

  async planWithBasis(
    tenantId: number,
    planned: Planned[],
    window: { start: Date; end: Date },
  ): Promise<{ times: Map<string, Date>; basis: Record<SendTimeBasis, number> }> {
    const sends = planned.flatMap((p) => (p.kind === 'send' ? [p] : []));
    const times = new Map<string, Date>();
    const basis: Record<SendTimeBasis, number> = { recipient: 0, tenant: 0, window_start: 0 };
    if (sends.length === 0) return { times, basis };
    const tenantZone = (await this.tenants.ensure(tenantId)).settings.timezone ?? undefined;
    const since = new Date(this.clock.now().getTime() - RESPONSE_LOOKBACK_DAYS * 86_400_000);
    const [own, all] = await Promise.all([
      this.ledger.responsesOf(
        tenantId,
        sends.map((s) => s.phoneNumber),
        since,
      ),
      this.ledger.tenantResponses(tenantId, since),
    ]);
    const zoneOf = (r: PastResponse) => recipientZone(null, r.country, tenantZone);
    const tenantHour = bestHour(all.map((r) => sample(r, zoneOf(r))));
    const byNumber = new Map<string, PastResponse[]>();
    for (const r of own) {
      const list = byNumber.get(r.phoneNumber);
      if (list) list.push(r);
      else byNumber.set(r.phoneNumber, [r]);
    }
    for (const s of sends) {
      const zone = recipientZone(s.timezone, countryOfNumber(s.phoneNumber), tenantZone);
      const history = (byNumber.get(s.phoneNumber) ?? []).map((r) => sample(r, zone));
      const choice = chooseSendTime({ window, zone, recipientHour: bestHour(history), tenantHour });
      times.set(s.userId, choice.at);
      basis[choice.basis] += 1;
    }
    return { times, basis };
  }
}

function sample(r: PastResponse, zone: string): ResponseSample {
  return { sentAt: r.sentAt, respondedAt: r.respondedAt, zone };
}
