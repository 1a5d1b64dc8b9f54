import { AcceptService, MessagingModule } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

/**
 * The ledger's inserts pass their columns as array literals built in slices (arrayLiterals): what
 * is stored is exactly what was accepted, whatever the text holds, for one message and for a bulk
 * long enough to be written across several turns of the event loop.
 */
describe('the ledger insert stores each value as accepted', () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: { SMS_RATE_LIMIT: '100000', SMS_ADMIN_RATE_LIMIT: '100000' },
    });
  });
  afterAll(() => ctx.close());

  const bodies = [
    'a "quoted" word',
    'back\\slash and \\" both',
    '{braces}, commas, and NULL',
    'Türkçe ğüşıöç — “curly” 😀',
    'line\nbreak',
  ];

  it('one message at a time: bodies, metadata and times', async () => {
    const tenant = freshTenantId();
    const who = principal(tenant, 'u1', ['admin']);
    const accept = ctx.get(AcceptService);
    const metadata = { note: 'say "hi" \\ {x}', list: ['a,b', null] };
    const ids: string[] = [];
    for (const body of bodies) {
      const { result } = await accept.accept(sendContext(who), textSend('+12025550123', body, { metadata }));
      ids.push(result.messages[0].id);
    }
    const rows: { id: string; body: string; metadata: unknown; created_at: Date }[] = await ctx.ds.query(
      'SELECT id, body, metadata, created_at FROM sms_messages WHERE id = ANY($1::uuid[])',
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(ids.map((id) => byId.get(id)?.body)).toEqual(bodies);
    for (const r of rows) {
      expect(r.metadata).toEqual(metadata);
      expect(Math.abs(r.created_at.getTime() - ctx.clock.now().getTime())).toBeLessThan(60_000);
    }
  });

  it('a 3,000-number bulk: every row, in order of its numbers', async () => {
    const tenant = freshTenantId();
    const who = principal(tenant, 'u1', ['admin']);
    const numbers = Array.from({ length: 3_000 }, (_, i) => `+1202555${String(i).padStart(4, '0')}`);
    const { result } = await ctx
      .get(AcceptService)
      .accept(sendContext(who), textSend(numbers, bodies.join(' | ')));
    expect(result.messages).toHaveLength(3_000);
    const rows: { id: string; phone_number: string; body: string }[] = await ctx.ds.query(
      'SELECT id, phone_number, body FROM sms_messages WHERE tenant_id = $1',
      [tenant],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(result.messages.map((m) => byId.get(m.id)?.phone_number)).toEqual(numbers);
    expect(new Set(rows.map((r) => r.body))).toEqual(new Set([bodies.join(' | ')]));
  });
});
