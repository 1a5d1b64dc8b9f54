import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { DeliveryReceipt, DeliveryReceipts } from '../../providers';
import { RedisService } from '../../redis/redis.module';
import { MessageStatus } from '../../core/message-types';
import { canTransition } from '../../core/status-machine';
import { formatMoney } from '../../core/money';

export type ReceiptResult = 'applied' | 'ignored' | 'parked';

/** How long a receipt that arrived before its message's 'sent' was recorded waits for it. */
const PARK_TTL_SECONDS = 3600;

/**
 * Applies provider delivery receipts (webhooks, sandbox, reconciliation). A status only moves
 * forward; a late or repeated receipt is still recorded as an event and changes nothing else.
 */
@Injectable()
export class ReceiptsService implements OnModuleInit {
  private readonly logger = new Logger(ReceiptsService.name);
  private readonly parkedLookups: Batcher<string, string | null>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly receipts: DeliveryReceipts,
    private readonly redis: RedisService,
  ) {
    this.parkedLookups = new Batcher(async (keys) => this.redis.client.mget(...keys));
  }

  private parkKey(provider: string, providerMessageId: string): string {
    return this.redis.key('receipt', provider, providerMessageId);
  }

  /**
   * A provider can call back before the worker has recorded 'sent' (and the provider id). Such a
   * receipt is parked in Redis; the worker applies it right after recording the send.
   */
  async applyParked(provider: string, providerMessageId: string): Promise<void> {
    const key = this.parkKey(provider, providerMessageId);
    const parked = await this.parkedLookups.submit(key);
    if (parked === null) return;
    await this.redis.client.del(key);
    await this.apply(JSON.parse(parked) as DeliveryReceipt);
  }

  onModuleInit(): void {
    this.receipts.subscribe(async (r) => {
      await this.apply(r);
    });
  }

  async apply(r: DeliveryReceipt): Promise<ReceiptResult> {
    const next: MessageStatus | null = r.status;
    return this.ds.transaction(async (m) => {
      const rows: { id: string; status: MessageStatus }[] = await m.query(
        'SELECT id, status FROM sms_messages WHERE provider = $1 AND provider_message_id = $2 FOR UPDATE',
        [r.provider, r.providerMessageId],
      );
      if (rows.length === 0) {
        this.logger.warn(
          { provider: r.provider, providerMessageId: r.providerMessageId },
          'receipt before its message: parked',
        );
        await this.redis.client.set(
          this.parkKey(r.provider, r.providerMessageId),
          JSON.stringify(r),
          'EX',
          PARK_TTL_SECONDS,
        );
        return 'parked';
      }
      const { id, status } = rows[0];
      const applies = next !== null && next !== status && canTransition(status, next);
      const cost = r.price === undefined || r.price === null ? null : formatMoney(Math.abs(r.price));
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
