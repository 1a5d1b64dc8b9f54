import { REPLICA_APPLICATION_NAME } from '../../src/database/replica-reads';
import { waitForStatus } from '../support/messages';
import { PgReplicaPair, queryOnce } from '../support/pg-replica';
import { parsePrometheusText } from '../support/prometheus-text';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/** Room for the reads a paused replica must still serve (a loaded CI host), yet a short wait past it. */
const MAX_LAG_MS = 6000;

/**
 * Issue 24 item 3: DATABASE_READ_URL sends history, stats, reports and exports to a streaming
 * replica. A real one: our own primary (initdb) and a `pg_basebackup -R` copy of it on loopback,
 * both throwaway (test/support/pg-replica.ts). Whether a read was served by the replica is seen by
 * pausing its replay: it answers as of the pause, the primary with the fresh write.
 */
describe('read replica (DATABASE_READ_URL)', () => {
  let pair: PgReplicaPair;
  let t: TestApp;
  const who = { tenant: freshTenantId(), roles: ['admin'] };
  let n = 0;
  const send = async (): Promise<string> => {
    const res = await t
      .http()
      .post('/api/sms/send')
      .set(t.auth(who))
      .send({ phone_number: `+1202555${String(1000 + n++).padStart(4, '0')}`, message: 'replica test' })
      .expect(202);
    return res.body.message_id as string;
  };
  const historyIds = async (): Promise<string[]> => {
    const res = await t.http().get('/api/sms/history?limit=100').set(t.auth(who)).expect(200);
    return res.body.items.map((m: { message_id: string }) => m.message_id);
  };
  const statsTotal = async (): Promise<number> =>
    (await t.http().get('/api/sms/stats').set(t.auth(who)).expect(200)).body.totals.total;
  const ready = async () => {
    const res = await t.http().get('/health/ready').expect(200);
    return res.body as {
      status: string;
      details: { read_replica: { reads_on: string; replica: string; lag_ms: number | null; down: string[] } };
    };
  };
  const metric = async (name: string): Promise<number | undefined> =>
    parsePrometheusText((await t.http().get('/metrics').expect(200)).text).samples.find(
      (s) => s.name === name,
    )?.value;
  const readsOn = (where: 'replica' | 'primary', timeoutMs = 20_000) =>
    eventually(
      async () => ((await ready()).details.read_replica.reads_on === where ? true : undefined),
      timeoutMs,
      `reads on the ${where}`,
    );

  beforeAll(async () => {
    pair = await PgReplicaPair.start('sms_replica');
    t = await createTestApp({
      env: {
        DATABASE_URL: pair.primaryUrl,
        DATABASE_READ_URL: pair.replicaUrl,
        DATABASE_READ_MAX_LAG_MS: String(MAX_LAG_MS),
        DATABASE_READ_CHECK_INTERVAL_MS: '250',
        SANDBOX_DELIVERY_DELAY_MS: '10',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await pair?.cleanup();
  });

  /** Pauses the replica's replay, runs `fn`, resumes it (also when `fn` fails). */
  const whilePaused = async <T>(fn: () => Promise<T>): Promise<T> => {
    await pair.replica.pauseReplay(pair.database);
    try {
      return await fn();
    } finally {
      await pair.replica.resumeReplay(pair.database);
    }
  };

  it('reads history and stats on the replica, and the status of a message just sent on the primary', async () => {
    const first = await send();
    await waitForStatus(t, who, first, 'delivered');
    await pair.caughtUp();
    await readsOn('replica');
    expect(await historyIds()).toContain(first);
    // The replica's sessions carry the replica reads' application_name (operators find them there).
    const sessions = await queryOnce(
      pair.replicaUrl,
      'SELECT 1 FROM pg_stat_activity WHERE application_name = $1',
      [REPLICA_APPLICATION_NAME],
    );
    expect(sessions.length).toBeGreaterThan(0);

    const statsBefore = await statsTotal();
    await whilePaused(async () => {
      const fresh = await send();
      // Read-your-write: the status by id is the primary's, at once.
      const status = await t.http().get(`/api/sms/messages/${fresh}/status`).set(t.auth(who)).expect(200);
      expect(status.body.message_id).toBe(fresh);
      // History and stats are the replica's: as of the pause, without the fresh message.
      const ids = await historyIds();
      expect(ids).toContain(first);
      expect(ids).not.toContain(fresh);
      expect(await statsTotal()).toBe(statsBefore);
    });
  });

  it('reports the lag in /metrics and /health/ready, reads on the primary past DATABASE_READ_MAX_LAG_MS, and back on the replica once it catches up', async () => {
    await readsOn('replica');
    const healthy = await ready();
    expect(healthy.status).toBe('ok');
    expect(healthy.details.read_replica).toMatchObject({ replica: 'replica', down: [] });
    expect(healthy.details.read_replica.lag_ms).toBeLessThanOrEqual(MAX_LAG_MS);
    expect(await metric('sms_db_replica_serving')).toBe(1);
    expect(await metric('sms_db_replica_lag_seconds')).toBeLessThanOrEqual(MAX_LAG_MS / 1000);
    expect(await metric('sms_db_replica_lag_bytes')).toBeGreaterThanOrEqual(0);

    await whilePaused(async () => {
      const fresh = await send();
      await readsOn('primary', 20_000);
      const lagging = await ready();
      // Still ready (200): only degraded, naming the replica.
      expect(lagging.status).toBe('degraded');
      expect(lagging.details.read_replica).toMatchObject({
        replica: 'lagging',
        reads_on: 'primary',
        down: ['replica'],
      });
      expect(lagging.details.read_replica.lag_ms).toBeGreaterThan(MAX_LAG_MS);
      expect(await metric('sms_db_replica_serving')).toBe(0);
      expect(await metric('sms_db_replica_lag_seconds')).toBeGreaterThan(MAX_LAG_MS / 1000);
      expect(await metric('sms_db_replica_lag_bytes')).toBeGreaterThan(0);
      // On the primary: fresh.
      expect(await historyIds()).toContain(fresh);
    });

    await readsOn('replica');
    expect((await ready()).status).toBe('ok');
    // Used again: a pause shows the replica's answer once more.
    await whilePaused(async () => {
      const fresh = await send();
      expect(await historyIds()).not.toContain(fresh);
    });
  });

  it('falls back to the primary while the replica is stopped, without a connect timeout per read, and uses it again once it is back', async () => {
    await readsOn('replica');
    const before = await send();
    await pair.replica.stop();
    // The first read may meet the dead replica before a check does: it runs again on the primary.
    expect(await historyIds()).toContain(before);
    await readsOn('primary', 5000);
    const down = await ready();
    expect(down.status).toBe('degraded');
    expect(down.details.read_replica).toMatchObject({
      replica: 'down',
      reads_on: 'primary',
      down: ['replica'],
    });
    expect(await metric('sms_db_replica_serving')).toBe(0);
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      expect(await historyIds()).toContain(before);
      expect(await statsTotal()).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(1000);
    }

    await pair.replica.start();
    await pair.caughtUp();
    await readsOn('replica');
    await whilePaused(async () => {
      const fresh = await send();
      const ids = await historyIds();
      expect(ids).toContain(before);
      expect(ids).not.toContain(fresh);
    });
  });
});

describe('without DATABASE_READ_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { DATABASE_READ_URL: '' } });
  }, 60_000);
  afterAll(() => t?.close());

  it('reads on the primary and reports no replica in /health/ready or /metrics', async () => {
    const who = { tenant: freshTenantId(), roles: ['admin'] };
    await t.http().get('/api/sms/history').set(t.auth(who)).expect(200);
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.details).not.toHaveProperty('read_replica');
    expect(ready.body).not.toHaveProperty('read_replica');
    const names = parsePrometheusText((await t.http().get('/metrics').expect(200)).text).samples.map(
      (s) => s.name,
    );
    expect(names.filter((n) => n.startsWith('sms_db_replica'))).toEqual([]);
  });
});
