import { TwilioProvider } from '../../src/providers/twilio/twilio.provider';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio, twilioError } from '../fakes/fake-twilio';

/** The Twilio provider on its own: the real SDK against the fake Twilio. */
describe('TwilioProvider (real SDK, fake Twilio)', () => {
  const fake = new FakeTwilio();
  let twilio: TwilioProvider;

  beforeAll(async () => {
    twilio = new TwilioProvider({
      accountSid: FAKE_TWILIO_SID,
      authToken: FAKE_TWILIO_TOKEN,
      from: '+15005550006',
      apiBaseUrl: await fake.start(),
      timeoutMs: 2000,
    });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  const sms = (to: string, body: string) => ({
    messageId: 'm',
    tenantId: 1,
    to,
    body,
    messageType: 'general_notification' as const,
  });
  const at = (iso: string) => () => new Date(iso);

  it('lists the outbound messages to a recipient created in the window, across pages, marking the one with the text', async () => {
    fake.maxPageSize = 2;
    fake.now = at('2026-03-01T10:00:00Z');
    await twilio.send(sms('+12025550123', 'before the window'));
    fake.now = at('2026-03-01T12:00:00Z');
    const wanted = await twilio.send(sms('+12025550123', 'your code is ready'));
    for (let i = 0; i < 4; i++) await twilio.send(sms('+12025550123', `other ${i}`));
    await twilio.send(sms('+12025550999', 'your code is ready')); // another number
    fake.setStatus(wanted.providerMessageId, 'delivered', '-0.00790');

    const found = await twilio.findSent({
      to: '+12025550123',
      body: 'your code is ready',
      after: new Date('2026-03-01T11:00:00Z'),
      before: new Date('2026-03-01T13:00:00Z'),
    });

    expect(found.filter((f) => f.sameBody)).toEqual([
      {
        providerMessageId: wanted.providerMessageId,
        sameBody: true,
        status: 'delivered',
        providerStatus: 'delivered',
        price: 7900,
        currency: 'USD',
        errorCode: undefined,
      },
    ]);
    // The other texts in the window are listed too (a rewritten text is not "nothing"); the one
    // before the window and the other number's are not.
    expect(found).toHaveLength(5);
    const lists = fake.requests.filter((r) => r.method === 'GET');
    expect(lists.length).toBeGreaterThanOrEqual(3); // 6 messages to that number, 2 a page
  });

  it('finds nothing when no message was created in the window', async () => {
    fake.now = at('2026-03-01T10:00:00Z');
    await twilio.send(sms('+12025550123', 'hello'));
    const found = await twilio.findSent({
      to: '+12025550123',
      body: 'hello',
      after: new Date('2026-03-01T11:00:00Z'),
      before: new Date('2026-03-01T13:00:00Z'),
    });
    expect(found).toEqual([]);
  });

  it('reads the price Twilio reports as an exact charge in micro-units', async () => {
    const sent = await twilio.send(sms('+12025550123', 'hi'));
    fake.setStatus(sent.providerMessageId, 'delivered', '-0.0079999');
    expect(await twilio.fetchStatus(sent.providerMessageId)).toMatchObject({
      status: 'delivered',
      price: 8000,
      currency: 'USD',
    });
  });

  it('says a recipient opted out (Twilio 21610)', async () => {
    fake.next(twilioError(400, 21610, 'Attempt to send to unsubscribed recipient'));
    await expect(twilio.send(sms('+12025550123', 'hi'))).rejects.toMatchObject({
      kind: 'permanent',
      code: 'twilio:21610',
      optedOut: true,
    });
  });
});
