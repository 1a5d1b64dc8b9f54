import { HostResolver } from '../../../src/callbacks';
import { AcceptService, MessagingModule } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { FakeDns } from '../../support/fake-dns';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/** status_callback_url passes the guard endpoint registration does, DNS included, before anything is stored. */
describe('status_callback_url on the accept path', () => {
  let ctx: MediumContext;
  let accept: AcceptService;
  const dns = new FakeDns()
    .set('hooks.example.com', ['93.184.216.34', '2606:4700:4700::1111'])
    .set('vm.example.com', ['127.0.0.1'])
    .set('metadata.example.com', ['2606:4700:4700::1111', '64:ff9b:1::a9fe:a9fe'])
    .set('slow.example.com', 'hang');

  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: { WEBHOOK_ALLOW_INSECURE: 'false' },
      override: (b) => b.overrideProvider(HostResolver).useValue(dns),
    });
    accept = ctx.get(AcceptService);
  });
  afterAll(() => ctx.close());

  const stored = async (tenant: number) =>
    (await ctx.ds.query('SELECT status_callback_url FROM sms_messages WHERE tenant_id = $1', [tenant])) as {
      status_callback_url: string | null;
    }[];
  const sendWith = (tenant: number, url: string, recipients: string | string[] = '+12025550123') =>
    accept.accept(sendContext(principal(tenant)), textSend(recipients, 'hi', { statusCallbackUrl: url }));
  const refusal = (error: string) => ({
    code: 'validation_failed',
    details: [{ field: 'status_callback_url', errors: [error] }],
  });

  it.each([
    ['a name that resolves to loopback', 'https://vm.example.com/cb'],
    ['a name with one address in the local-use NAT64 prefix', 'https://metadata.example.com/cb'],
  ])('refuses %s, storing nothing', async (_what, url) => {
    const tenant = freshTenantId();
    await expect(sendWith(tenant, url)).rejects.toMatchObject(
      refusal('status_callback_url host resolves to a private or reserved address'),
    );
    await expect(sendWith(tenant, url, ['+12025550123', '+12025550124'])).rejects.toMatchObject(
      refusal('status_callback_url host resolves to a private or reserved address'),
    );
    expect(await stored(tenant)).toEqual([]);
  });

  it.each(['https://[::7f00:1]/cb', 'https://[::ffff:0:7f00:1]/cb', 'https://[64:ff9b:1::a9fe:a9fe]/cb'])(
    'refuses the IPv4-embedding literal %s, storing nothing',
    async (url) => {
      const tenant = freshTenantId();
      await expect(sendWith(tenant, url)).rejects.toMatchObject(
        refusal('status_callback_url must not point at a private or reserved address'),
      );
      expect(await stored(tenant)).toEqual([]);
    },
  );

  it('refuses a name that does not resolve', async () => {
    const tenant = freshTenantId();
    await expect(sendWith(tenant, 'https://nowhere.example.com/cb')).rejects.toMatchObject(
      refusal('status_callback_url host does not resolve'),
    );
    expect(await stored(tenant)).toEqual([]);
  });

  it('answers within the time limit when DNS does not answer, storing nothing', async () => {
    const tenant = freshTenantId();
    const started = Date.now();
    await expect(sendWith(tenant, 'https://slow.example.com/cb')).rejects.toMatchObject(
      refusal('status_callback_url host did not resolve in time (no answer within 200 ms)'),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await stored(tenant)).toEqual([]);
  });

  it('accepts a name whose every address is public, and stores the URL', async () => {
    const tenant = freshTenantId();
    await sendWith(tenant, 'https://hooks.example.com/cb');
    expect(await stored(tenant)).toEqual([{ status_callback_url: 'https://hooks.example.com/cb' }]);
  });

  it('asks DNS only when the field is given, and not again for a replay', async () => {
    const who = principal(freshTenantId());
    const before = dns.asked.length;
    await accept.accept(sendContext(who), textSend('+12025550123', 'no callback'));
    expect(dns.asked.length).toBe(before);
    const input = textSend('+12025550123', 'with callback', {
      statusCallbackUrl: 'https://hooks.example.com/r',
    });
    const first = await accept.accept(sendContext(who, { idempotencyKey: 'k1' }), input);
    const replay = await accept.accept(sendContext(who, { idempotencyKey: 'k1' }), input);
    expect(replay).toMatchObject({ replayed: true, result: { messages: first.result.messages } });
    expect(dns.asked.slice(before)).toEqual(['hooks.example.com']);
  });
});
