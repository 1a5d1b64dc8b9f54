import { DataSource } from 'typeorm';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { waitForStatus } from '../support/messages';
import { eventually } from '../support/wait';

describe('opt-outs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SANDBOX_DELIVERY_DELAY_MS: '10' } });
  });
  afterAll(() => t.close());

  const send = (who: { tenant: number; roles?: string[] }, phone: string) =>
    t.http().post('/api/sms/send').set(t.auth(who)).send({ phone_number: phone, message: 'hello' });

  it('records a recipient who opted out at the provider and refuses later sends to them', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    const first = await send(who, '+15005550004').expect(202); // the sandbox's "blocked" number: 21610
    await waitForStatus(t, who, first.body.message_id, 'failed');
    const list = await eventually(async () => {
      const res = await t.http().get('/api/sms/opt-outs').set(t.auth(who)).expect(200);
      return res.body.length ? res.body : undefined;
    });
    expect(list).toEqual([
      {
        phone_number: '+15005550004',
        source: 'provider',
        reason: 'sandbox:21610',
        answered: null,
        created_at: expect.any(String),
      },
    ]);
    const refused = await send(who, '+15005550004').expect(400);
    expect(refused.body.message).toContain('opted out');
    // Only that tenant's list: another tenant may still text the number.
    await send({ tenant: freshTenantId() }, '+15005550004').expect(202);
  });

  it('lets an admin take a number off the list', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    await t
      .http()
      .post('/api/sms/opt-outs')
      .set(t.auth(who))
      .send({ phone_number: '+12025550125' })
      .expect(204);
    await send(who, '+12025550125').expect(400);
    await t.http().delete('/api/sms/opt-outs/+12025550125').set(t.auth(who)).expect(204);
    await send(who, '+12025550125').expect(202);
    await t.http().delete('/api/sms/opt-outs/+12025550125').set(t.auth(who)).expect(404);
    // Every change is an event on the list, with who made it.
    const events = await t
      .get(DataSource)
      .query(
        'SELECT action, actor FROM sms_opt_out_events WHERE tenant_id = $1 AND phone_number = $2 ORDER BY id',
        [who.tenant, '+12025550125'],
      );
    expect(events).toEqual([
      { action: 'opt_out', actor: '1' },
      { action: 'opt_in', actor: '1' },
    ]);
  });

  it('is for admins only', async () => {
    await t
      .http()
      .get('/api/sms/opt-outs')
      .set(t.auth({ tenant: freshTenantId() }))
      .expect(403);
  });
});
