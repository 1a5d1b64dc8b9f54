import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CODE_MESSAGE_TYPES, ConversionObserver } from '../../core';
import type { MessageStatus, MessageType, ProviderName } from '../../core/message-types';
import { isUuid } from '../repositories/messages.repository';

/** A code message marked converted: what the marking statement returned. */
export interface MessageConversion {
  messageId: string;
  tenantId: number;
  /** The message's status when it converted (unchanged by the conversion). */
  status: MessageStatus;
  provider: ProviderName | null;
  country: string | null;
  messageType: MessageType;
  /**
   * converted_at − sent_at (created_at when it was not sent by then), in seconds to the ms, never
   * negative; the stats bucket the same time.
   */
  secondsFromSend: number;
}

/**
 * Code conversion: the user typed the code a message carried, so the message reached them. A
 * verification check that succeeded marks its message (`converted_at`) with `markConverted`, inside
 * the check's own transaction, and calls `observe` once that transaction has committed, which tells
 * the `ConversionObserver` (adaptive routing) when one is bound.
 *
 * Not a status change: the status stays as it is; the statement writes `converted_at` and an event
 * (the current status, source `verification`, payload `{converted: true, seconds}`). The ledger's
 * conversion trigger counts it for the stats in the same statement.
 */
@Injectable()
export class MessageConversions {
  private readonly logger = new Logger(MessageConversions.name);

  constructor(@Optional() @Inject(ConversionObserver) private readonly observer?: ConversionObserver) {}

  /**
   * Marks this tenant's code message converted at `at`, once: a message of another tenant, not a
   * code message, or already converted changes nothing and gives null (so a repeated check never
   * moves `converted_at`). Runs on `manager`, the caller's transaction.
   *
   * A message still `sending` (its outcome not yet written) gets `converted_at` without an event:
   * the outcome resolver reads the last `sending` event as the time of the attempt.
   */
  async markConverted(
    manager: EntityManager,
    tenantId: number,
    messageId: string,
    at: Date,
  ): Promise<MessageConversion | null> {
    if (!isUuid(messageId)) return null;
    const rows: {
      id: string;
      status: MessageStatus;
      provider: ProviderName | null;
      country: string | null;
      message_type: MessageType;
      seconds: number;
    }[] = await manager.query(
      `WITH marked AS (
         UPDATE sms_messages SET converted_at = $3
          WHERE tenant_id = $1 AND id = $2 AND converted_at IS NULL AND message_type = ANY($4::varchar[])
         RETURNING id, status, provider, country, message_type,
                   round(greatest(0, extract(epoch FROM $3::timestamptz
                     - CASE WHEN sent_at <= $3::timestamptz THEN sent_at ELSE created_at END)), 3)::float8
                     AS seconds
       ), events AS (
         INSERT INTO sms_message_events (message_id, status, source, payload, at)
         SELECT id, status, 'verification', jsonb_build_object('converted', true, 'seconds', seconds), $3
           FROM marked WHERE status <> 'sending'
       )
       SELECT id, status, provider, country, message_type, seconds FROM marked`,
      [tenantId, messageId, at, CODE_MESSAGE_TYPES],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    return {
      messageId: r.id,
      tenantId,
      status: r.status,
      provider: r.provider,
      country: r.country,
      messageType: r.message_type,
      secondsFromSend: r.seconds,
    };
  }

  /**
   * The code this tenant's message carried was used: its encrypted full body is erased now, and if
   * it was not handed to a provider yet its validity ends now, so the claim (or the sweep) ends it
   * `expired` instead of sending it, and an outcome resolver's retry of an `unknown` one finds it
   * stale too: a used code is never sent, and never readable afterwards. A message `sending` has
   * no ciphertext left (the claim erased it). Runs on `manager`, the check's transaction.
   */
  async spendCode(manager: EntityManager, tenantId: number, messageId: string, at: Date): Promise<void> {
    if (!isUuid(messageId)) return;
    await manager.query(
      `UPDATE sms_messages SET body_ciphertext = NULL,
              expires_at = CASE WHEN expires_at IS NULL OR expires_at > $3 THEN $3 ELSE expires_at END
        WHERE tenant_id = $1 AND id = $2 AND body_ciphertext IS NOT NULL`,
      [tenantId, messageId, at],
    );
  }

  /**
   * Tells the observer about a committed conversion of a message a provider took (none: nothing to
   * score). Never throws and never waits: an observer's error is logged.
   */
  observe(c: MessageConversion): void {
    const observer = this.observer;
    if (!observer || c.provider === null) return;
    const failed = (e: unknown) =>
      this.logger.warn(`conversion observer failed: ${e instanceof Error ? e.message : String(e)}`);
    try {
      const done = observer.converted({
        tenantId: c.tenantId,
        provider: c.provider,
        country: c.country,
        messageType: c.messageType,
        secondsFromSend: c.secondsFromSend,
      });
      if (done instanceof Promise) done.catch(failed);
    } catch (e) {
      failed(e);
    }
  }
}
