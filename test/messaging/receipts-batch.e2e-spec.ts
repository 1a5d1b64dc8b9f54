import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { ReceiptsService } from '../../src/messaging/receipts/receipts.service';
import { SystemMessagesRepository } from '../../src/messaging/repositories/system-messages.repository';
import { DeliveryReceipt, SmsRouter } from '../../src/providers';
import type { OutboundSms } from '../../src/providers';
import type { RouteOutcome } from '../../src/providers/provider-router';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * Receipts that arrive together are applied in one transaction; each must still come out as if
 * applied alone, in arrival order.
 */
describe('receipts applied together', () => {
  let db: DataSource;
  let t: TestApp;
  let receipts: ReceiptsService;
  let run = 0;
  beforeAll(async () => {
    db = await createDataSource(process.env.DATABASE_URL as string, 2).initialize();
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '3600000' } });
    receipts = t.get(ReceiptsService);
  });
  afterAll(async () => {
    await t.close();
    await db.destroy();
  });

  /** `n` messages recorded 'sent' by the worker, with their provider message ids. */
  const sentMessages = async (n: number): Promise<{ id: string; pmid: string }[]> => {
    const prefix = `BATCH${++run}-`;
    jest
      .spyOn(t.get(SmsRouter).router, 'send')
      .mockImplementation(async (sms: OutboundSms): Promise<RouteOutcome> => {
        const providerMessageId = `${prefix}${sms.messageId}`;
        return {
          result: { provider: 'sandbox', providerMessageId, status: 'sent', cost: null, currency: null },
          tried: [{ provider: 'sandbox' }],
        };
      });
    const phones = Array.from({ length: n }, (_, i) => `+1202555${String(3000 + run * 100 + i)}`);
    const res = await t
      .http()
      .post('/api/sms/send-bulk')
      .set(t.auth({ tenant: freshTenantId(), roles: ['admin'] }))
      .send({ phone_numbers: phones, message: 'receipts together' })
      .expect(202);
    const ids = res.body.message_ids as string[];
    await eventually(
      async () => {
        const [{ sent }] = await db.query(
          `SELECT count(*)::int AS sent FROM sms_messages WHERE id = ANY($1) AND status = 'sent'`,
          [ids],
        );
        return sent === n ? true : undefined;
      },
      30_000,
      `${n} messages sent`,
    );
    return ids.map((id) => ({ id, pmid: `${prefix}${id}` }));
  };
  const delivered = (pmid: string, extra: Partial<DeliveryReceipt> = {}): DeliveryReceipt => ({
    provider: 'sandbox',
    providerMessageId: pmid,
    status: 'delivered',
    providerStatus: 'delivered',
    source: 'sandbox',
    ...extra,
  });
  const eventsOf = (id: string) =>
    db.query(
      `SELECT status, source, payload FROM sms_message_events
        WHERE message_id = $1 AND source <> 'worker' AND source <> 'api' ORDER BY at, id`,
      [id],
    ) as Promise<{ status: string; source: string; payload: Record<string, unknown> }[]>;

  it('a replay in the same batch is recorded once, and a late cost on it is kept', async () => {
    const msgs = await sentMessages(20);
    const results = await Promise.all(
      msgs.flatMap(({ pmid }) => [
        receipts.apply(delivered(pmid)),
        receipts.apply(delivered(pmid, { price: 7_500, currency: 'usd' })),
      ]),
    );
    expect(results).toEqual(msgs.flatMap(() => ['applied', 'ignored']));
    const rows: { status: string; cost: boolean; currency: string }[] = await db.query(
      `SELECT status, cost = 0.0075 AS cost, currency FROM sms_messages WHERE id = ANY($1)`,
      [msgs.map((m) => m.id)],
    );
    expect(rows).toEqual(msgs.map(() => ({ status: 'delivered', cost: true, currency: 'USD' })));
    for (const { id } of msgs) expect(await eventsOf(id)).toHaveLength(1);
  });

  it("applies a message's receipts of one batch in arrival order: a later word the machine refuses is recorded, not applied", async () => {
    const msgs = await sentMessages(10);
    const results = await Promise.all(
      msgs.flatMap(({ pmid }) => [
        receipts.apply(delivered(pmid)),
        receipts.apply(
          delivered(pmid, { status: 'undelivered', providerStatus: 'undelivered', errorCode: '30003' }),
        ),
      ]),
    );
    expect(results).toEqual(msgs.flatMap(() => ['applied', 'ignored']));
    for (const { id } of msgs) {
      const [row] = await db.query('SELECT status, error_code FROM sms_messages WHERE id = $1', [id]);
      expect(row).toEqual({ status: 'delivered', error_code: null });
      expect((await eventsOf(id)).map((e) => [e.status, e.payload.applied])).toEqual([
        ['delivered', true],
        ['undelivered', false],
      ]);
    }
  });

  it('parks a receipt for an unknown message without holding up the others', async () => {
    const msgs = await sentMessages(3);
    const results = await Promise.all([
      ...msgs.map(({ pmid }) => receipts.apply(delivered(pmid))),
      receipts.apply(delivered(`NOT-YET-${run}`)),
    ]);
    expect(results).toEqual(['applied', 'applied', 'applied', 'parked']);
    const [{ parked }] = await db.query(
      'SELECT count(*)::int AS parked FROM sms_parked_receipts WHERE provider_message_id = $1',
      [`NOT-YET-${run}`],
    );
    expect(parked).toBe(1);
  });

  it("finds a replay by a lookup per receipt, not by reading the ledger's events, whatever plan the database would rather take", async () => {
    const msgs = await sentMessages(3);
    await Promise.all(msgs.map(({ pmid }) => receipts.apply(delivered(pmid))));
    // A ledger of some size (on a table of a few pages, reading it all is the right plan): the
    // third message's provider says 'sent' 20,000 times over.
    await db.query(
      `INSERT INTO sms_message_events (message_id, status, source, payload)
       SELECT $1, 'sent', 'sandbox', '{"provider_status": "sent"}' FROM generate_series(1, 20000)`,
      [msgs[2].id],
    );
    await db.query('ANALYZE sms_message_events');
    const [{ events }] = await db.query('SELECT count(*)::int AS events FROM sms_message_events');
    const asked = [
      { provider: 'sandbox' as const, providerMessageId: msgs[0].pmid, providerStatus: 'delivered' },
      { provider: 'sandbox' as const, providerMessageId: msgs[1].pmid, providerStatus: 'undelivered' },
    ];
    const { seen, read } = await t.get(SystemMessagesRepository).transaction(async (m) => {
      // What a planner whose statistics lag behind a fast-growing table chose: hash the whole
      // events table (45–70 ms a batch under load). Nested loops off makes it choose that here.
      await m.query('SET LOCAL enable_nestloop = off');
      await m.query('SET LOCAL jit = off');
      // The rows this connection has read, not yet reported (earlier transactions' among them).
      const rowsRead = async (): Promise<number> =>
        (
          await m.query(
            `SELECT (coalesce(sum(seq_tup_read), 0) + coalesce(sum(idx_tup_fetch), 0))::int AS read
               FROM pg_stat_xact_user_tables WHERE relname LIKE 'sms_message_events%'`,
          )
        )[0].read as number;
      const before = await rowsRead();
      const targets = await t.get(SystemMessagesRepository).lockReceiptTargets(m, asked);
      return {
        seen: asked.map((a) => targets.get(`${a.provider}:${a.providerMessageId}`)?.seen),
        read: (await rowsRead()) - before,
      };
    });
    // The first message's provider already said 'delivered'; the second's never said 'undelivered'.
    expect(seen).toEqual([true, false]);
    // Each lookup reads its message's events (four here), where reading the ledger is 20,000.
    expect(events).toBeGreaterThan(20_000);
    expect(read).toBeLessThanOrEqual(asked.length * 4);
  });

  it('a receipt the database refuses fails alone: the others of its batch are applied', async () => {
    const msgs = await sentMessages(5);
    const results = await Promise.allSettled([
      ...msgs.map(({ pmid }) => receipts.apply(delivered(pmid))),
      // Longer than the events' source column: its INSERT fails, and with it the batch.
      receipts.apply(
        delivered(msgs[0].pmid, { providerStatus: 'read', status: null, source: 'x'.repeat(40) }),
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual([...msgs.map(() => 'fulfilled'), 'rejected']);
    const [{ delivered: n }] = await db.query(
      `SELECT count(*)::int AS delivered FROM sms_messages WHERE id = ANY($1) AND status = 'delivered'`,
      [msgs.map((m) => m.id)],
    );
    expect(n).toBe(5);
  });
});
