import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectDataSource } from '@nestjs/typeorm';
import { ReplicaReads } from '../database/replica-reads';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit';
import { Principal } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import { SealedBox } from '../common/sealed-box';
import { AppConfig } from '../config/app-config';
import { appointmentsPersonalData } from '../appointments';
import { callbacksPersonalData } from '../callbacks';
import { directoryPersonalData } from '../campaigns';
import { PersonalDataPart, PersonalDataStatements } from '../core';
import { inboundPersonalData } from '../inbound';
import {
  consentPersonalData,
  OptOutsService,
  PhoneHasher,
  PrivacyLedger,
  WhatsappSessions,
} from '../messaging';
import { verificationPersonalData } from '../verification';

/**
 * How long after its first pass an erasure runs the same pass again, for a send accepted just
 * before the number's suppression entry committed (its opt-out check passed; its insert lands a
 * moment later). See docs/privacy.md, "Races".
 */
export const ERASURE_SETTLE_MS = 1500;

export type PrivacyKind = 'erasure' | 'export';

/** The Bull queue of export jobs (worker role); a job carries only the request id. */
export const PRIVACY_QUEUE = 'sms-privacy';
export const EXPORT_JOB = 'export';

export interface PrivacyRequest {
  id: string;
  kind: PrivacyKind;
  tenantId: number;
  allTenants: boolean;
  requestedBy: string;
  status: 'running' | 'completed' | 'failed';
  progress: number;
  counts: Record<string, number> | null;
  createdAt: Date;
  completedAt: Date | null;
  expiresAt: Date | null;
  /** An export's file is still there (not expired, not purged). */
  downloadable: boolean;
}

/** What one pass of an erasure changed, by place. */
export type ErasureCounts = Record<string, number>;

/**
 * The parts' statements on a TypeORM query: rows as returned; a count from an UPDATE or DELETE's
 * `[rows, affected]`.
 */
function statementsOn(query: (sql: string, params: unknown[]) => Promise<unknown>): PersonalDataStatements {
  return {
    rows: async <T>(sql: string, params: unknown[]) => (await query(sql, params)) as T[],
    count: async (sql: string, params: unknown[]) => ((await query(sql, params)) as [unknown, number])[1],
  };
}

/**
 * Data-subject requests (issue 23, item 1): erase or export everything held about one phone
 * number. Messages and their events go through messaging's `PrivacyLedger`, the suppression list
 * through `OptOutsService`; the rows of inbound texts, the recipient directory, appointments,
 * verification codes and callback deliveries are redacted here by one statement each (their
 * owners have no other writer that conflicts: each statement matches the number in clear only).
 */
@Injectable()
export class PrivacyService {
  private readonly logger = new Logger(PrivacyService.name);
  private readonly box: SealedBox;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly optOuts: OptOutsService,
    private readonly ledger: PrivacyLedger,
    private readonly hasher: PhoneHasher,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    @InjectQueue(PRIVACY_QUEUE) private readonly queue: Queue<{ requestId: string }>,
    private readonly reads: ReplicaReads,
    private readonly whatsappSessions: WhatsappSessions,
  ) {
    this.box = new SealedBox(config.dataKey(), 'privacy-export-v1');
  }

  /**
   * Erases `phone` (E.164) for the principal's tenant, or for every tenant (`allTenants`, a
   * super_admin's). First the suppression entry (its keyed hash) commits, so every later accept
   * refuses the number; then one pass redacts every place; after ERASURE_SETTLE_MS a second pass
   * catches a send whose opt-out check ran before the entry existed. Irreversible.
   */
  async erase(p: Principal, phone: string, allTenants: boolean): Promise<PrivacyRequest> {
    const tenantIds = allTenants ? await this.allTenantIds() : [p.tenantId];
    const hash = this.hasher.hash(phone);
    const suppressed = await this.optOuts.suppressErased(tenantIds, phone);
    const first = await this.passWithRetry(tenantIds, phone, allTenants);
    await new Promise((r) => setTimeout(r, ERASURE_SETTLE_MS));
    const second = await this.passWithRetry(tenantIds, phone, allTenants);
    const counts: ErasureCounts = { opt_outs: suppressed.optOuts, opt_out_events: suppressed.optOutEvents };
    for (const pass of [first, second])
      for (const [k, v] of Object.entries(pass)) counts[k] = (counts[k] ?? 0) + v;
    const [row] = (await this.ds.query(
      `INSERT INTO sms_privacy_requests (kind, tenant_id, all_tenants, phone_hash, requested_by, status, progress, counts, completed_at)
       VALUES ('erasure', $1, $2, $3, $4, 'completed', 100, $5, now())
       RETURNING *`,
      [p.tenantId, allTenants, hash, p.userId, JSON.stringify(counts)],
    )) as RequestRow[];
    await this.audit.record(p, 'privacy.erasure', { type: 'privacy_request', id: row.id }, null, {
      phone_hash: hash,
      all_tenants: allTenants,
      counts,
    });
    return toRequest(row, new Date());
  }

  /** One pass in one transaction; a deadlock with the worker's batched updates is tried again. */
  private async passWithRetry(
    tenantIds: number[],
    phone: string,
    allTenants: boolean,
  ): Promise<ErasureCounts> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ds.transaction((m) => this.erasePass(m, tenantIds, phone, allTenants));
      } catch (err) {
        const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw err;
      }
    }
  }

  private async erasePass(
    m: EntityManager,
    tenantIds: number[],
    phone: string,
    allTenants: boolean,
  ): Promise<ErasureCounts> {
    const ledger = await this.ledger.erase(tenantIds, phone, m);
    const tx = statementsOn((sql, params) => m.query(sql, params));
    // Each owner erases its own tables, in this order (the order the pass always took).
    const erase = (part: PersonalDataPart) => part.erase(tx, tenantIds, phone, allTenants);
    const counts: ErasureCounts = {
      messages: ledger.messages,
      message_events: ledger.events,
      canceled_messages: ledger.canceled,
      idempotency_results: ledger.idempotencyResults,
      tracked_links: ledger.links,
    };
    for (const part of [
      inboundPersonalData,
      directoryPersonalData,
      appointmentsPersonalData,
      verificationPersonalData,
      consentPersonalData,
    ])
      Object.assign(counts, await erase(part));
    counts.whatsapp_sessions = await this.whatsappSessions.forget(phone, m);
    Object.assign(counts, await erase(callbacksPersonalData));
    return counts;
  }

  private async allTenantIds(): Promise<number[]> {
    const rows: { id: number }[] = await this.ds.query('SELECT id FROM tenants ORDER BY id');
    return rows.map((r) => r.id);
  }

  /**
   * Starts an export: the request row (the number sealed until the job has read it) and a job on
   * the `sms-privacy` queue that a worker runs (`runExport`); progress is on the request.
   */
  async startExport(p: Principal, phone: string): Promise<PrivacyRequest> {
    const hash = this.hasher.hash(phone);
    const [row] = (await this.ds.query(
      `INSERT INTO sms_privacy_requests (kind, tenant_id, phone_hash, requested_by, status, progress, phone_sealed)
       VALUES ('export', $1, $2, $3, 'running', 0, $4) RETURNING *`,
      [p.tenantId, hash, p.userId, this.box.seal(phone)],
    )) as RequestRow[];
    await this.audit.record(p, 'privacy.export', { type: 'privacy_request', id: row.id }, null, {
      phone_hash: hash,
    });
    await this.queue.add(
      EXPORT_JOB,
      { requestId: row.id },
      {
        jobId: `privacy-export:${row.id}`,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
    return toRequest(row, new Date());
  }

  /**
   * The export job: builds the file of a running request. `lastAttempt`: a failure marks the
   * request failed (and drops the sealed number) instead of leaving it for a retry.
   */
  async runExport(requestId: string, lastAttempt: boolean): Promise<void> {
    const rows: { tenant_id: number; phone_sealed: string | null }[] = await this.ds.query(
      `SELECT tenant_id, phone_sealed FROM sms_privacy_requests
        WHERE id = $1 AND kind = 'export' AND status = 'running'`,
      [requestId],
    );
    if (rows.length === 0 || rows[0].phone_sealed === null) return;
    try {
      await this.buildExport(requestId, rows[0].tenant_id, this.box.open(rows[0].phone_sealed));
    } catch (err) {
      this.logger.error({ err, requestId }, 'privacy export failed');
      if (!lastAttempt) throw err;
      await this.ds.query(
        `UPDATE sms_privacy_requests SET status = 'failed', error = 'export failed', phone_sealed = NULL,
                completed_at = now() WHERE id = $1`,
        [requestId],
      );
    }
  }

  private async buildExport(id: string, tenantId: number, phone: string): Promise<void> {
    const progress = (n: number) =>
      this.ds.query('UPDATE sms_privacy_requests SET progress = $2 WHERE id = $1', [id, n]);
    // The number's data is read on the read replica when one serves reads (at most
    // DATABASE_READ_MAX_LAG_MS behind); the request row it writes stays on the primary.
    const messages = await this.ledger.export(tenantId, phone);
    await progress(40);
    const reads = statementsOn((sql, params) => this.reads.run((ds) => ds.query(sql, params)));
    const part = (p: PersonalDataPart) => p.export(reads, tenantId, phone);
    const { inbound_messages: inbound } = await part(inboundPersonalData);
    const { directory_entries: directory } = await part(directoryPersonalData);
    const { appointments } = await part(appointmentsPersonalData);
    await progress(70);
    const optOut = await this.optOuts.history(tenantId, phone);
    const { consent_history: consentHistory } = await part(consentPersonalData);
    const { callback_deliveries: deliveries } = await part(callbacksPersonalData);
    const file = {
      phone_number: phone,
      generated_at: new Date().toISOString(),
      messages,
      inbound_messages: inbound,
      directory_entries: directory,
      appointments,
      opt_out: optOut.entry,
      opt_out_history: optOut.events,
      consent_history: consentHistory,
      callback_deliveries: deliveries,
    };
    const counts = {
      messages: messages.length,
      inbound_messages: inbound.length,
      directory_entries: directory.length,
      appointments: appointments.length,
      opt_out_history: optOut.events.length,
      consent_history: consentHistory.length,
      callback_deliveries: deliveries.length,
    };
    await this.ds.query(
      `UPDATE sms_privacy_requests
          SET status = 'completed', progress = 100, counts = $2, file = $3, completed_at = now(), phone_sealed = NULL,
              expires_at = now() + make_interval(secs => $4)
        WHERE id = $1`,
      [id, JSON.stringify(counts), JSON.stringify(file), this.config.get('SMS_PRIVACY_EXPORT_TTL_SECONDS')],
    );
  }

  async list(tenantId: number, kind: PrivacyKind, limit = 100): Promise<PrivacyRequest[]> {
    const rows: RequestRow[] = await this.ds.query(
      `SELECT ${REQUEST_COLUMNS} FROM sms_privacy_requests WHERE tenant_id = $1 AND kind = $2
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [tenantId, kind, limit],
    );
    const now = new Date();
    return rows.map((r) => toRequest(r, now));
  }

  /** One of the tenant's requests of `kind`; 404 for another tenant's or an unknown id. */
  async get(tenantId: number, kind: PrivacyKind, id: string): Promise<PrivacyRequest> {
    const rows: RequestRow[] = UUID.test(id)
      ? await this.ds.query(
          `SELECT ${REQUEST_COLUMNS} FROM sms_privacy_requests WHERE id = $1 AND tenant_id = $2 AND kind = $3`,
          [id, tenantId, kind],
        )
      : [];
    if (rows.length === 0) throw new NotFoundError(`privacy ${kind} ${id} not found`);
    return toRequest(rows[0], new Date());
  }

  /** An export's file while it lasts; 404 once expired, for another tenant's, or before it is done. */
  async download(tenantId: number, id: string): Promise<unknown> {
    const rows: { file: unknown }[] = UUID.test(id)
      ? await this.ds.query(
          `SELECT file FROM sms_privacy_requests
            WHERE id = $1 AND tenant_id = $2 AND kind = 'export' AND file IS NOT NULL AND expires_at > now()`,
          [id, tenantId],
        )
      : [];
    if (rows.length === 0) throw new NotFoundError(`privacy export ${id} has no file to download`);
    return rows[0].file;
  }

  /** Deletes expired exports' files (the retention job); the request's record stays. */
  async purgeExpiredExports(): Promise<number> {
    const [, n] = (await this.ds.query(
      `UPDATE sms_privacy_requests SET file = NULL WHERE file IS NOT NULL AND expires_at <= now()`,
    )) as [unknown, number];
    return n;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const REQUEST_COLUMNS = `id, kind, tenant_id, all_tenants, requested_by, status, progress, counts, created_at,
  completed_at, expires_at, (file IS NOT NULL) AS has_file`;

interface RequestRow {
  id: string;
  kind: PrivacyKind;
  tenant_id: number;
  all_tenants: boolean;
  requested_by: string;
  status: PrivacyRequest['status'];
  progress: number;
  counts: Record<string, number> | null;
  created_at: Date;
  completed_at: Date | null;
  expires_at: Date | null;
  has_file?: boolean;
}

function toRequest(r: RequestRow, now: Date): PrivacyRequest {
  return {
    id: r.id,
    kind: r.kind,
    tenantId: r.tenant_id,
    allTenants: r.all_tenants,
    requestedBy: r.requested_by,
    status: r.status,
    progress: r.progress,
    counts: r.counts,
    createdAt: r.created_at,
    completedAt: r.completed_at,
    expiresAt: r.expires_at,
    downloadable: Boolean(r.has_file) && r.expires_at !== null && r.expires_at > now,
  };
}
