import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DeliveryReceipt, DeliveryReceipts } from '../../providers';
import { Clock } from '../../common/clock';
import { MessageStatus } from '../../core/message-types';
import { canTransition } from '../../core/status-machine';

export type ReceiptResult = 'applied' | 'ignored' | 'parked';

/**
 * Applies provider delivery receipts (webhooks, sandbox, reconciliation). A status only moves
 * forward; a late or repeated receipt is still recorded as an event and changes nothing else.
 */
@Injectable()
export class ReceiptsService implements OnModuleInit {
  private readonly logger = new Logger(ReceiptsService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly receipts: DeliveryReceipts,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.receipts.subscribe(async (r) => {
      await this.apply(r);
    });
  }

  async apply(r: DeliveryReceipt): Promise<ReceiptResult> {
    const next: MessageStatus | null = r.status;
    return this.ds.transaction(async (m) => {
      // The key the worker locks while it records 'sent' (DeliveryStore.recordMany): either this
      // receipt finds the 'sent' row, or it parks before the worker's statement looks.
      await m.query("SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2::text, 0))", [
        r.provider,
        r.providerMessageId,
      ]);
      const rows: { id: string; status: MessageStatus }[] = await m.query(
        'SELECT id, status FROM sms_messages WHERE provider = $1 AND provider_message_id = $2 FOR UPDATE',
        [r.provider, r.providerMessageId],
      );
      if (rows.length === 0) {
        this.logger.warn(
          { provider: r.provider, providerMessageId: r.providerMessageId },
          'receipt before its message: parked',
        );
        // Parked in PostgreSQL: the worker applies it in the statement that records 'sent'.
        await m.query(
          `INSERT INTO sms_parked_receipts (provider, provider_message_id, status, payload, received_at)
           VALUES ($1, $2, $3, $4, $5)`,
          [r.provider, r.providerMessageId.slice(0, 100), next, JSON.stringify(r), this.clock.now()],
        );
        return 'parked';
      }
      const { id, status } = rows[0];
      const applies = next !== null && next !== status && canTransition(status, next);
      const cost = r.price === undefined || r.price === null ? null : Math.abs(r.price);
      if (applies) {
        await m.query(
          `UPDATE sms_messages SET status = $2::varchar,
             delivered_at = CASE WHEN $2::varchar = 'delivered' THEN now() ELSE delivered_at END,
             error_code = COALESCE($3::varchar, error_code),
             cost = COALESCE($4::numeric, cost),
             updated_at = now()
           WHERE id = $1`,
          [id, next, r.errorCode ? `${r.provider}:${r.errorCode}` : null, cost],
        );
      } else if (cost !== null) {
        await m.query('UPDATE sms_messages SET cost = $2, updated_at = now() WHERE id = $1', [id, cost]);
      }
      await m.query(
        'INSERT INTO sms_message_events (message_id, status, source, payload) VALUES ($1, $2, $3, $4)',
        [
          id,
          next ?? status,
          r.source,
          JSON.stringify({
            provider_status: r.providerStatus,
            applied: applies,
            error_code: r.errorCode ?? null,
          }),
        ],
      );
      return applies ? 'applied' : 'ignored';
    });
  }
}
