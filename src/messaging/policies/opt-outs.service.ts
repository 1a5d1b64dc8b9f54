import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { NotFoundError } from '../../common/errors';

export interface OptOut {
  phoneNumber: string;
  source: string;
  reason: string | null;
  createdAt: Date;
}

/** Why an opt-out changed, kept as a row of sms_opt_out_events with the change itself. */
export interface OptOutChangeSource {
  /** Who made the change: the recipient's number (a keyword), an admin's user id. */
  actor: string | null;
  /** The keyword that made it (e.g. "IPTAL"), if any. */
  keyword?: string | null;
  /** The sms_inbound_messages id that carried the keyword, if any. */
  inboundMessageId?: string | null;
}

/**
 * Numbers a tenant must not text. Sends to them are refused before anything is stored, so an
 * opted-out recipient is neither texted nor billed again. Every method takes the tenant id.
 */
@Injectable()
export class OptOutsService {
  /** Lookups of concurrent sends share one query (the send path's hottest extra round trip). */
  private readonly lookups: Batcher<{ tenantId: number; phoneNumbers: string[] }, Set<string>>;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.lookups = new Batcher(async (groups) => {
      const tenants = groups.flatMap((g) => g.phoneNumbers.map(() => g.tenantId));
      const phones = groups.flatMap((g) => g.phoneNumbers);
      const rows: { tenant_id: number; phone_number: string }[] = await this.ds.query(
        `SELECT o.tenant_id, o.phone_number FROM sms_opt_outs o
           JOIN unnest($1::int[], $2::varchar[]) AS q(tenant_id, phone_number)
             ON o.tenant_id = q.tenant_id AND o.phone_number = q.phone_number`,
        [tenants, phones],
      );
      const hits = new Set(rows.map((r) => `${r.tenant_id}:${r.phone_number}`));
      return groups.map((g) => new Set(g.phoneNumbers.filter((p) => hits.has(`${g.tenantId}:${p}`))));
    }, 200);
  }

  /** The subset of `phoneNumbers` (E.164) that opted out from `tenantId`. */
  filter(tenantId: number, phoneNumbers: string[]): Promise<Set<string>> {
    if (phoneNumbers.length === 0) return Promise.resolve(new Set());
    return this.lookups.submit({ tenantId, phoneNumbers });
  }

  /** True when the number was not on the list before. */
  async add(
    tenantId: number,
    phoneNumber: string,
    source: string,
    reason: string | null,
    // Every change is an event on the list: who made it, if the caller knows.
    change: OptOutChangeSource = { actor: null },
  ): Promise<boolean> {
    // With a change source, the event is written by the same statement as the change (or not at all).
    const added: unknown[] = await this.ds.query(
      `WITH added AS (
         INSERT INTO sms_opt_outs (tenant_id, phone_number, source, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, phone_number) DO NOTHING RETURNING tenant_id, phone_number
       ), event AS (
         INSERT INTO sms_opt_out_events (tenant_id, phone_number, action, source, actor, keyword, inbound_message_id)
         SELECT tenant_id, phone_number, 'opt_out', $3, $6, $7, $8::bigint FROM added WHERE $5::boolean
       )
       SELECT 1 FROM added`,
      [tenantId, phoneNumber, source, reason, Boolean(change), ...changeParams(change)],
    );
    return added.length > 0;
  }

  /** Returns what was removed. */
  async remove(
    tenantId: number,
    phoneNumber: string,
    change: OptOutChangeSource & { source: string } = { actor: null, source: 'admin' },
  ): Promise<{ source: string; reason: string | null }> {
    const rows: { source: string; reason: string | null }[] = await this.ds.query(
      `WITH removed AS (
         DELETE FROM sms_opt_outs WHERE tenant_id = $1 AND phone_number = $2
         RETURNING tenant_id, phone_number, source, reason
       ), event AS (
         INSERT INTO sms_opt_out_events (tenant_id, phone_number, action, source, actor, keyword, inbound_message_id)
         SELECT tenant_id, phone_number, 'opt_in', $4, $5, $6, $7::bigint FROM removed WHERE $3::boolean
       )
       SELECT source, reason FROM removed`,
      [tenantId, phoneNumber, Boolean(change), change?.source ?? null, ...changeParams(change)],
    );
    if (rows.length === 0) throw new NotFoundError(`${phoneNumber} is not on the opt-out list`);
    return rows[0];
  }

  async list(tenantId: number): Promise<OptOut[]> {
    const rows: { phone_number: string; source: string; reason: string | null; created_at: Date }[] =
      await this.ds.query(
        'SELECT phone_number, source, reason, created_at FROM sms_opt_outs WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 10000',
        [tenantId],
      );
    return rows.map((r) => ({
      phoneNumber: r.phone_number,
      source: r.source,
      reason: r.reason,
      createdAt: r.created_at,
    }));
  }
}

function changeParams(c: OptOutChangeSource | undefined): (string | null)[] {
  return [c?.actor ?? null, c?.keyword ?? null, c?.inboundMessageId ?? null];
}
