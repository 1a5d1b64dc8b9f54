import { Client as PgClient } from 'pg';
import { TenancyModule, TenantsService } from '../../../src/tenancy';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext } from '../medium-context';

/** Every request asks for its tenant: a cold or expired entry is one lookup, not one per request. */
describe('tenant lookups', () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [TenancyModule] });
  });
  afterAll(() => ctx.close());

  const tenantStatements = async (run: () => Promise<unknown>): Promise<number> => {
    const proto = PgClient.prototype as unknown as { query: (...a: unknown[]) => Promise<unknown> };
    const real = proto.query;
    let n = 0;
    const spy = jest.spyOn(proto, 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      if (typeof text === 'string' && /"tenants"/.test(text)) n += 1;
      return real.apply(this, args);
    });
    try {
      await run();
    } finally {
      spy.mockRestore();
    }
    return n;
  };

  it('shares one lookup among 50 concurrent requests for a tenant not cached yet', async () => {
    const tenants = ctx.get(TenantsService);
    const id = freshTenantId();
    const n = await tenantStatements(() => Promise.all(Array.from({ length: 50 }, () => tenants.ensure(id))));
    expect(n).toBe(2); // the create-if-missing INSERT and the SELECT
  });

  it('does not cache what a lookup read before a write that landed while it was in flight', async () => {
    const tenants = ctx.get(TenantsService);
    const id = freshTenantId();
    await tenants.update((await tenants.ensure(id)).id, { name: 'before' });
    // The lookup's SELECT runs now (reads 'before') but its answer is held until the write is done.
    const proto = PgClient.prototype as unknown as { query: (...a: unknown[]) => Promise<unknown> };
    const real = proto.query;
    let selected!: () => void;
    const selectRan = new Promise<void>((r) => (selected = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = true;
    const spy = jest.spyOn(proto, 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : '';
      if (holding && /^SELECT/.test(text) && /"tenants"/.test(text)) {
        holding = false;
        const answer = real.apply(this, args);
        selected();
        return answer.then(async (v) => {
          await held;
          return v;
        });
      }
      return real.apply(this, args);
    });
    try {
      const stale = tenants.ensure(id);
      await selectRan;
      await tenants.update(id, { name: 'after' });
      release();
      expect((await stale).name).toBe('before'); // what it read, returned to its own caller…
    } finally {
      spy.mockRestore();
    }
    expect((await tenants.ensure(id)).name).toBe('after'); // …but not cached for the next one
  });
});

/** Two admins changing different settings at the same moment: both changes stay. */
describe('tenant updates', () => {
  let ctx: MediumContext;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [TenancyModule] });
  });
  afterAll(() => ctx.close());

  it('merges concurrent settings patches instead of the later save putting back what the earlier replaced', async () => {
    const tenants = ctx.get(TenantsService);
    const id = freshTenantId();
    await tenants.ensure(id);
    const keys = Array.from({ length: 20 }, (_, i) => i);
    await Promise.all(
      keys.map((i) =>
        tenants.update(id, {
          settings: { timezone: 'Europe/Istanbul', [`k${i}`]: i } as Record<string, unknown>,
        }),
      ),
    );
    const settings = (await tenants.get(id)).settings as Record<string, unknown>;
    expect(keys.filter((i) => settings[`k${i}`] !== i)).toEqual([]);
    expect(settings.timezone).toBe('Europe/Istanbul');
  });

  it('changes the name and the active flag alone, and answers 404 for a tenant that does not exist', async () => {
    const tenants = ctx.get(TenantsService);
    const id = freshTenantId();
    await tenants.update((await tenants.ensure(id)).id, { settings: { timezone: 'UTC' } });
    const updated = await tenants.update(id, { name: 'renamed', active: false });
    expect(updated).toMatchObject({ name: 'renamed', active: false, settings: { timezone: 'UTC' } });
    await expect(tenants.update(freshTenantId(), { name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
