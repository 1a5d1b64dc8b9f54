import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * WhatsApp's customer service window (`sms_whatsapp_sessions`): when each recipient last wrote to
 * one of our WhatsApp senders. Inbound WhatsApp messages open it (`opened`); the accept path and
 * the worker read it (`lastInbound`) to choose free text or an approved template.
 */
@Injectable()
export class WhatsappSessions {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** A recipient wrote to `ourNumber` at `at` (a later message moves the window; an older one does not). */
  async opened(ourNumber: string, phoneNumber: string, at: Date): Promise<void> {
    await this.ds.query(
      `INSERT INTO sms_whatsapp_sessions (our_number, phone_number, last_inbound_at) VALUES ($1, $2, $3)
       ON CONFLICT (our_number, phone_number)
       DO UPDATE SET last_inbound_at = GREATEST(sms_whatsapp_sessions.last_inbound_at, EXCLUDED.last_inbound_at)`,
      [ourNumber, phoneNumber, at],
    );
  }

  /** When each of `phoneNumbers` last wrote to `ourNumber` (absent: never). */
  async lastInbound(ourNumber: string, phoneNumbers: string[]): Promise<Map<string, Date>> {
    if (phoneNumbers.length === 0) return new Map();
    const rows: { phone_number: string; last_inbound_at: Date }[] = await this.ds.query(
      `SELECT phone_number, last_inbound_at FROM sms_whatsapp_sessions
        WHERE our_number = $1 AND phone_number = ANY($2::varchar[])`,
      [ourNumber, phoneNumbers],
    );
    return new Map(rows.map((r) => [r.phone_number, new Date(r.last_inbound_at)]));
  }

  /**
   * An erasure of the number (docs/privacy.md): its windows go, whichever sender it wrote to (the
   * row names no tenant); at worst a later WhatsApp send to it needs an approved template. In the
   * erasure's transaction (`m`).
   */
  async forget(phoneNumber: string, m: EntityManager): Promise<number> {
    const [, n]: [unknown, number] = await m.query(
      'DELETE FROM sms_whatsapp_sessions WHERE phone_number = $1',
      [phoneNumber],
    );
    return n;
  }

  /**
   * Windows older than two days tell nothing (a window is 24 hours): the retention job
   * deletes them, so a number is not kept here past its use.
   */
  async purgeClosed(): Promise<number> {
    const [, n]: [unknown, number] = await this.ds.query(
      `DELETE FROM sms_whatsapp_sessions WHERE last_inbound_at < now() - interval '2 days'`,
    );
    return n;
  }
}
