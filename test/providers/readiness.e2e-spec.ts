import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio, twilioError } from '../fakes/fake-twilio';
import { FakeSns, snsError } from '../fakes/fake-sns';
import { createTestApp, freshTenantId, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

describe('/health/ready with providers down', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
        TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: await twilioFake.start(),
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-1',
        AWS_SNS_ENDPOINT: await snsFake.start(),
        SMS_CIRCUIT_FAILURE_THRESHOLD: '1',
        SMS_CIRCUIT_COOLDOWN_MS: '3600000',
        SMS_RETRY_BASE_MS: '50',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  it('says ok while the providers answer, then degraded (still 200) naming every provider that is down', async () => {
    const healthy = await t.http().get('/health/ready').expect(200);
    expect(healthy.body.status).toBe('ok');
    expect(healthy.body.providers).toBeUndefined();
    expect(healthy.body.details.providers.down).toEqual([]);

    twilioFake.answerAlways(twilioError(503, 20503, 'Service Unavailable'));
    snsFake.answerAlways(snsError(500, 'InternalError', 'internal', 'Receiver'));
    await t
      .http()
      .post('/api/sms/send')
      .set(t.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550123', message: 'nobody home' })
      .expect(202);

    const degraded = await eventually(async () => {
      const res = await t.http().get('/health/ready');
      return res.body.providers?.down?.length === 2 ? res : undefined;
    });
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      providers: { down: ['twilio', 'sns'] },
      details: {
        database: { status: 'up' },
        redis: { status: 'up' },
        providers: { status: 'up', down: ['twilio', 'sns'], circuits: { twilio: { state: 'open' } } },
      },
    });
  });
});

describe('/health/ready on an api replica (circuits live in the workers)', () => {
  const twilioFake = new FakeTwilio();
  const snsFake = new FakeSns();
  let worker: TestApp;
  let api: TestApp;

  beforeAll(async () => {
    const env = {
      TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
      TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: await twilioFake.start(),
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      AWS_REGION: 'us-east-1',
      AWS_SNS_ENDPOINT: await snsFake.start(),
      SMS_CIRCUIT_FAILURE_THRESHOLD: '1',
      SMS_CIRCUIT_COOLDOWN_MS: '3600000',
      SMS_RETRY_BASE_MS: '50',
      // A prefix of this suite's own, so no other suite's published circuits leak in.
      REDIS_PREFIX: `${process.env.REDIS_PREFIX}-ready-${process.pid}`,
    };
    worker = await createTestApp({ env: { ...env, APP_ROLE: 'worker' } });
    api = await createTestApp({ env: { ...env, APP_ROLE: 'api' } });
  });
  afterAll(async () => {
    await api.close();
    await worker.close();
    await twilioFake.stop();
    await snsFake.stop();
  });

  it('reports degraded, naming the providers a worker found down', async () => {
    expect((await api.http().get('/health/ready').expect(200)).body.status).toBe('ok');
    twilioFake.answerAlways(twilioError(503, 20503, 'Service Unavailable'));
    snsFake.answerAlways(snsError(500, 'InternalError', 'internal', 'Receiver'));
    await api
      .http()
      .post('/api/sms/send')
      .set(api.auth({ tenant: freshTenantId() }))
      .send({ phone_number: '+12025550123', message: 'nobody home either' })
      .expect(202);
    const degraded = await eventually(async () => {
      const res = await api.http().get('/health/ready');
      return res.body.providers?.down?.length === 2 ? res : undefined;
    });
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({ status: 'degraded', providers: { down: ['twilio', 'sns'] } });
    // The api replica itself never sent: its own circuits are closed.
    expect(degraded.body.details.providers.circuits.twilio.state).toBe('closed');
  });
});
