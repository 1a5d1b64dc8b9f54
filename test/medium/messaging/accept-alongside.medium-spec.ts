import { AcceptService, MessagingModule } from '../../../src/messaging';
import type { AcceptInput } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * An accept's `alongside` write (a verification code's hash) is a CTE of the rows' own insert:
 * one statement, so the message and its companion commit together or not at all, with or without
 * the transaction of a spend-capped tenant.
 */
describe("an accept's alongside write commits with its message or not at all", () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: { SMS_RATE_LIMIT: '100000', SMS_ADMIN_RATE_LIMIT: '100000' },
    });
    await ctx.ds.query(
      `CREATE TABLE IF NOT EXISTS test_alongside (
         message_id uuid NOT NULL, tenant_id int NOT NULL, accepted_at timestamptz NOT NULL, note text NOT NULL)`,
    );
  });
  afterAll(() => ctx.close());

  /** The companion row; a null `note` violates its NOT NULL, which fails the whole statement. */
  const companion =
    (tenant: number, note: string | null): AcceptInput['alongside'] =>
    (rows, param) =>
      `INSERT INTO test_alongside (message_id, tenant_id, accepted_at, note)
       VALUES (${param(rows.messageIds[0])}::uuid, ${param(tenant)}::int, ${param(rows.acceptedAt)}::timestamptz, ${param(note)}::text)`;

  const messagesOf = async (tenant: number): Promise<string[]> =>
    (await ctx.ds.query(`SELECT id FROM sms_messages WHERE tenant_id = $1`, [tenant])).map(
      (r: { id: string }) => r.id,
    );
  const companionsOf = async (tenant: number): Promise<{ message_id: string; note: string }[]> =>
    ctx.ds.query(`SELECT message_id, note FROM test_alongside WHERE tenant_id = $1`, [tenant]);

  it.each([
    ['without a spend cap (one statement, no transaction)', null],
    ["in a spend-capped tenant's transaction", 1000],
  ])('both are stored, the companion naming the message: %s', async (_, cap) => {
    const tenant = freshTenantId();
    if (cap !== null)
      await ctx.ds.query(
        `INSERT INTO tenants (id, name, settings) VALUES ($1, 'capped', jsonb_build_object('monthly_spend_cap', $2::numeric))`,
        [tenant, cap],
      );
    const { result } = await ctx
      .get(AcceptService)
      .accept(
        sendContext(principal(tenant, 'u1', ['admin'])),
        textSend('+12025550123', 'with a companion', { alongside: companion(tenant, 'kept') }),
      );
    expect(await messagesOf(tenant)).toEqual([result.messages[0].id]);
    expect(await companionsOf(tenant)).toEqual([{ message_id: result.messages[0].id, note: 'kept' }]);
  });

  it('a companion the database refuses takes its message with it: nothing is stored', async () => {
    const tenant = freshTenantId();
    await expect(
      ctx
        .get(AcceptService)
        .accept(
          sendContext(principal(tenant, 'u1', ['admin'])),
          textSend('+12025550123', 'never stored', { alongside: companion(tenant, null) }),
        ),
    ).rejects.toThrow(/not-null|null value/);
    expect(await messagesOf(tenant)).toEqual([]);
    expect(await companionsOf(tenant)).toEqual([]);
  });
});
