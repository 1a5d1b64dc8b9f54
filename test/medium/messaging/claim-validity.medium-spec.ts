import { MessagingModule } from '../../../src/messaging';
import { freshTenantId, newMessages, newTenant } from '../factories';
import { createMediumContext, MediumContext } from '../medium-context';

/**
 * The claim (sms_claim_messages, migration 1764002900000) ends a due message whose validity period
 * has passed as `expired`, in the claiming statement, and hands the worker the columns it needs
 * to send the others: validity end, sender identity, test mode.
 */
describe('the claim and the validity period', () => {
  let ctx: MediumContext;

  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [MessagingModule] });
  });
  afterAll(() => ctx.close());

  const claim = (ids: string[], at: Date) =>
    ctx.ds.query('SELECT * FROM sms_claim_messages($1::uuid[], $2::timestamptz, $3::varchar[])', [
      ids,
      at,
      ['twilio'],
    ]) as Promise<{ id: string; expires_at: Date | null; sender: string | null; test_mode: boolean }[]>;
  const row = async (id: string) =>
    (
      (await ctx.ds.query(
        'SELECT status, error_code, attempts, body_ciphertext FROM sms_messages WHERE id = $1',
        [id],
      )) as { status: string; error_code: string | null; attempts: number; body_ciphertext: string | null }[]
    )[0];
  const events = async (id: string) =>
    (await ctx.ds.query(
      'SELECT status, source, payload FROM sms_message_events WHERE message_id = $1 ORDER BY id',
      [id],
    )) as { status: string; source: string; payload: unknown }[];

  it('expires a due message past its validity instead of claiming it, with an event', async () => {
    const tenant = await newTenant(ctx.ds, { id: freshTenantId() });
    const [stale, fresh, none] = await Promise.all([
      newMessages(ctx.ds, { tenant }),
      newMessages(ctx.ds, { tenant }),
      newMessages(ctx.ds, { tenant }),
    ]).then((r) => r.map(([id]) => id));
    const now = new Date();
    await ctx.ds.query(`UPDATE sms_messages SET expires_at = $2, body_ciphertext = 'sealed' WHERE id = $1`, [
      stale,
      new Date(now.getTime() - 1000),
    ]);
    await ctx.ds.query(
      `UPDATE sms_messages SET expires_at = $2, sender = 'ACME', test_mode = true WHERE id = $1`,
      [fresh, new Date(now.getTime() + 60_000)],
    );

    const claimed = await claim([stale, fresh, none], now);

    expect(claimed.map((c) => c.id).sort()).toEqual([fresh, none].sort());
    const got = claimed.find((c) => c.id === fresh);
    expect(got).toMatchObject({ sender: 'ACME', test_mode: true });
    expect(new Date(got!.expires_at!).getTime()).toBe(now.getTime() + 60_000);
    expect(claimed.find((c) => c.id === none)).toMatchObject({
      expires_at: null,
      sender: null,
      test_mode: false,
    });
    expect(await row(stale)).toEqual({
      status: 'expired',
      error_code: 'validity_expired',
      attempts: 0,
      body_ciphertext: null,
    });
    expect((await events(stale)).map((e) => [e.status, e.source, e.payload])).toEqual([
      ['expired', 'worker', { error_code: 'validity_expired' }],
    ]);
    // Terminal: a later claim leaves it alone.
    expect(await claim([stale], new Date(now.getTime() + 1000))).toEqual([]);
    expect((await row(stale)).status).toBe('expired');
  });

  it('the hand-over returns the same columns for the message it claims', async () => {
    const tenant = await newTenant(ctx.ds, { id: freshTenantId() });
    const [id] = await newMessages(ctx.ds, { tenant });
    await ctx.ds.query(`UPDATE sms_messages SET sender = '+15005550006' WHERE id = $1`, [id]);
    const rows: { id: string; claimed: boolean; sender: string | null; test_mode: boolean }[] =
      await ctx.ds.query(
        `SELECT * FROM sms_record_outcomes_and_claim('{}'::uuid[], '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
                                                    $1::timestamptz, '{}', $2::uuid[], $3::varchar[])`,
        [new Date(), [id], ['twilio']],
      );
    expect(rows).toEqual([
      expect.objectContaining({ id, claimed: true, sender: '+15005550006', test_mode: false }),
    ]);
  });
});
