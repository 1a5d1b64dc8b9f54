import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { NotFoundError } from '../../common/errors';

/** Provider error codes that mean the recipient has opted out (STOP) of this sender. */
export const OPT_OUT_ERROR_CODES = new Set(['twilio:21610', 'sns:OptedOut', 'sandbox:21610']);

export interface OptOut {
  phoneNumber: string;
  source: string;
  reason: string | null;
  createdAt: Date;
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
  async add(tenantId: number, phoneNumber: string, source: string, reason: string | null): Promise<boolean> {
    const added: unknown[] = await this.ds.query(
      `INSERT INTO sms_opt_outs (tenant_id, phone_number, source, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, phone_number) DO NOTHING RETURNING 1`,
      [tenantId, phoneNumber, source, reason],
    );
    return added.length > 0;
  }

  /** Returns what was removed. */
  async remove(tenantId: number, phoneNumber: string): Promise<{ source: string; reason: string | null }> {
    const [rows, count] = await this.ds.query(
      'DELETE FROM sms_opt_outs WHERE tenant_id = $1 AND phone_number = $2 RETURNING source, reason',
      [tenantId, phoneNumber],
    );
    if (!Number(count)) throw new NotFoundError(`${phoneNumber} is not on the opt-out list`);
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
