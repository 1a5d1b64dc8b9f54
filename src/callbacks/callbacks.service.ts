import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { inChunks, redactInPages } from '../common/chunked';
import { Clock } from '../common/clock';
import { PublishedEventType, WebhookEvent } from './events';
import { DeliveriesRepository, DeliveryStatus } from './deliveries.repository';

/** How the deliveries of one published event stand (one per endpoint subscribed when it was published). */
export type EventDeliveryCounts = Record<DeliveryStatus, number>;

export interface PublishInput {
  tenantId: number;
  type: PublishedEventType;
  /**
   * Makes the event exactly-once: publishing the same key twice (a retried request, a replayed
   * provider webhook) writes nothing the second time. E.g. `inbound:<id>`, `opt_out:<event id>`.
   */
  key: string;
  /** The event's `data`. No message bodies of code messages, no secrets. */
  data: Record<string, unknown>;
}

/**
 * The publish API for the other features (inbound SMS, opt-outs, campaigns, alerts): call it with
 * the `EntityManager` of the transaction that makes the change, so the event exists exactly when
 * the change does (the outbox pattern). Message status events need no call: a trigger
 * on the message ledger (messaging's) writes them.
 */
@Injectable()
export class CallbacksService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly deliveries: DeliveriesRepository,
    private readonly clock: Clock,
  ) {}

  /** Returns the event (its id) and how many endpoints will receive it. */
  async publish(
    input: PublishInput,
    manager?: EntityManager,
  ): Promise<{ event: WebhookEvent; deliveries: number }> {
    const at = this.clock.now();
    const event: WebhookEvent = {
      id: randomUUID(),
      type: input.type,
      created_at: at.toISOString(),
      data: { tenant_id: input.tenantId, ...input.data },
    };
    const deliveries = await this.deliveries.insertEvent(manager ?? this.ds.manager, {
      eventId: event.id,
      eventKey: `${input.type}:${input.key}`,
      type: input.type,
      tenantId: input.tenantId,
      payload: event,
      at,
    });
    return { event, deliveries };
  }

  /**
   * For events published with `type` and these keys (each with its tenant), how their deliveries
   * stand; an event without deliveries (no subscribed endpoint) counts 0 in each status.
   */
  /**
   * Retention: finished deliveries (delivered or failed; their attempts cascade) older than `days`,
   * oldest first by id in chunks; pending ones are never deleted.
   */
  purgeFinished(days: number, chunk: number): Promise<number> {
    return inChunks(chunk, async () => {
      const [, n] = await this.ds.query(
        `DELETE FROM sms_webhook_deliveries WHERE id IN (
           SELECT id FROM sms_webhook_deliveries
            WHERE created_at < now() - make_interval(days => $1::int) AND status <> 'pending'
            ORDER BY id LIMIT $2)`,
        [days, chunk],
      );
      return Number(n);
    });
  }

  /**
   * Body retention (docs/privacy.md#body-retention): the inbound text in this tenant's finished
   * `message.inbound` deliveries older than `days` becomes `redactedBody(days)` (a later replay
   * sends it so), newest first in pages of `chunk` rows, one short statement a page.
   */
  async redactInboundBodies(tenantId: number, days: number, chunk: number): Promise<number> {
    return redactInPages(
      (q, params) => this.ds.query(q, params),
      `WITH page AS (
             SELECT id, created_at FROM sms_webhook_deliveries
              WHERE tenant_id = $1 AND created_at < now() - make_interval(days => $2::int)
                AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::bigint))
              ORDER BY created_at DESC, id DESC LIMIT $5
           ), redacted AS (
             UPDATE sms_webhook_deliveries d SET payload = jsonb_set(d.payload, '{data,body}', to_jsonb($6::text))
               FROM page p
              WHERE d.id = p.id AND d.event_type = 'message.inbound' AND d.status <> 'pending'
                AND jsonb_typeof(d.payload->'data'->'body') = 'string' AND d.payload->'data'->>'body' !~ $7
             RETURNING d.id
           ), last AS (SELECT created_at::text AS at, id::text AS id FROM page ORDER BY created_at, id LIMIT 1)
           SELECT (SELECT count(*) FROM redacted)::int AS n, (SELECT count(*) FROM page)::int AS page,
                  (SELECT at FROM last) AS at, (SELECT id FROM last) AS id`,
      tenantId,
      days,
      chunk,
    );
  }

  async deliveryCounts(
    type: PublishedEventType,
    events: { tenantId: number; key: string }[],
  ): Promise<Map<string, EventDeliveryCounts>> {
    const byEventKey = await this.deliveries.countByEventKeys(
      events.map((e) => ({ tenantId: e.tenantId, eventKey: `${type}:${e.key}` })),
    );
    return new Map(
      events.map((e) => [
        e.key,
        byEventKey.get(`${type}:${e.key}`) ?? { pending: 0, delivered: 0, failed: 0 },
      ]),
    );
  }
}
