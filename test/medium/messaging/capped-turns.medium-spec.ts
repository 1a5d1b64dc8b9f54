import { Client } from 'pg';
import { TenantLock } from '../../../src/database/advisory-lock';
import { AcceptService, MessagingModule } from '../../../src/messaging';
import type { AcceptInput } from '../../../src/messaging';
import { MonitoringModule } from '../../../src/monitoring';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal, sendContext, textSend } from '../medium-context';

const POOL = 4;

/**
 * A spend-capped tenant's accepts that keep a transaction each (those with an `alongside` write:
 * a verification code and its hash) take turns in the process before they take a connection. Each
 * waits for the tenant's spend-cap lock inside its transaction; were they to take their
 * connections first, a burst of them behind a held lock would hold the whole pool, and every
 * other tenant's sends would wait for a connection for as long (in the app: until a 503).
 */
describe("a capped tenant's transactions take turns before they take a connection", () => {
  let ctx: MediumContext;
  let outside: Client;
  beforeAll(async () => {
    ctx = await createMediumContext({
      imports: [MessagingModule, PhoneModule, MonitoringModule],
      env: {
        SMS_RATE_LIMIT: '100000',
        SMS_ADMIN_RATE_LIMIT: '100000',
        DATABASE_POOL_SIZE: String(POOL),
      },
    });
    await ctx.ds.query(
      `CREATE TABLE IF NOT EXISTS test_turns (message_id uuid NOT NULL, tenant_id int NOT NULL)`,
    );
    outside = new Client({ connectionString: process.env.DATABASE_URL });
    await outside.connect();
  });
  afterAll(async () => {
    await outside.end();
    await ctx.close();
  });

  const companion =
    (tenant: number): AcceptInput['alongside'] =>
    (rows, param) =>
      `INSERT INTO test_turns (message_id, tenant_id) VALUES (${param(rows.messageIds[0])}::uuid, ${param(tenant)}::int)`;

  it("holds one connection for them while the tenant's lock is taken elsewhere: another tenant's send goes on", async () => {
    const capped = freshTenantId();
    const other = freshTenantId();
    await ctx.ds.query(
      `INSERT INTO tenants (id, name, settings) VALUES ($1, 'capped', jsonb_build_object('monthly_spend_cap', 1000))`,
      [capped],
    );
    const accept = ctx.get(AcceptService);
    // Another replica's accept of the capped tenant, holding its spend-cap lock.
    await outside.query('SELECT pg_advisory_lock($1, $2)', [TenantLock.SpendCap, capped]);
    let waiting: Promise<unknown>[];
    try {
      waiting = Array.from({ length: 3 * POOL }, (_, i) =>
        accept.accept(
          sendContext(principal(capped, 'u1', ['admin'])),
          textSend(`+1202555${String(2000 + i)}`, 'a code and its hash', { alongside: companion(capped) }),
        ),
      );
      waiting.forEach((w) => w.catch(() => undefined));
      // The capped tenant's first transaction now waits for the lock on a connection of its own.
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const { result } = await accept.accept(
        sendContext(principal(other, 'u1', ['admin'])),
        textSend('+12025550199', 'another tenant, meanwhile'),
      );
      expect(result.messages).toHaveLength(1);
      // Without the turns the pool's 4 connections wait for the lock, and this send waited for a
      // connection as long as the lock was held (past the test's 30 s: this context sets no
      // acquire timeout; the app's, DATABASE_ACQUIRE_TIMEOUT_MS, would answer 503 after 2 s).
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await outside.query('SELECT pg_advisory_unlock($1, $2)', [TenantLock.SpendCap, capped]);
    }
    // Once the lock is free, every one of them is accepted, with its companion.
    const results = await Promise.allSettled(waiting);
    expect(results.map((r) => r.status)).toEqual(waiting.map(() => 'fulfilled'));
    const [{ n }] = await ctx.ds.query(`SELECT count(*)::int AS n FROM test_turns WHERE tenant_id = $1`, [
      capped,
    ]);
    expect(n).toBe(3 * POOL);
  });
});
