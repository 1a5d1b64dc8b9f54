/**
 * The fake Twilio and SNS of test/fakes, run in this process behind gates, plus what a scenario
 * needs on top: Twilio calling the status callback the moment it creates a message (as a fast
 * carrier does), and the ledger of what "went out", which is the source of truth for doubles and
 * losses.
 */
import twilio from 'twilio';
import { Answer, RecordedRequest } from '../test/fakes/fake-http';
import { FakeSns, snsError } from '../test/fakes/fake-sns';
import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN, FakeTwilio, twilioError } from '../test/fakes/fake-twilio';
import { ProviderGate, RECEIVED_AT_HEADER } from './gate';

export { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN };

export interface CallbackTally {
  sent: number;
  answered2xx: number;
  answeredOther: Record<string, number>;
  /** SIDs whose `delivered` callback the service answered 2xx: it took the receipt. */
  accepted: Set<string>;
}

/**
 * The moment a number's first accepted send reached the provider: the gate's stamp of the request
 * (RECEIVED_AT_HEADER), ms since the epoch. Requests that did not come through a gate are not noted.
 */
function noteCall(calls: Map<string, number>, req: RecordedRequest, to: string): void {
  const at = Number(req.headers[RECEIVED_AT_HEADER]);
  if (at > 0 && !calls.has(to)) calls.set(to, at);
}

export class ChaosTwilio extends FakeTwilio {
  /** When on, a signed `delivered` status callback is posted right after each message is created. */
  receiptsRaceTheWorker = false;
  /** Destination number → when its first created message reached the gate (noteCall). */
  readonly calledAt = new Map<string, number>();
  readonly callbacks: CallbackTally = { sent: 0, answered2xx: 0, answeredOther: {}, accepted: new Set() };
  private readonly pending = new Set<Promise<void>>();

  protected override answer(req: RecordedRequest): Answer {
    const answer = super.answer(req);
    if (answer.status === 201 && req.form.To) noteCall(this.calledAt, req, req.form.To);
    const url = req.form.StatusCallback;
    if (this.receiptsRaceTheWorker && answer.status === 201 && url) {
      const { sid, to } = JSON.parse(answer.body) as { sid: string; to: string };
      // After this answer is written, before the worker has had a chance to record `sent`.
      setImmediate(() => {
        const p = this.callBack(url, sid, to).finally(() => this.pending.delete(p));
        this.pending.add(p);
      });
    }
    return answer;
  }

  /** Resolves when every callback posted so far has been answered. */
  async callbacksSettled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  override reset(): void {
    super.reset();
    this.calledAt.clear();
    this.receiptsRaceTheWorker = false;
    this.callbacks.sent = 0;
    this.callbacks.answered2xx = 0;
    this.callbacks.answeredOther = {};
    this.callbacks.accepted.clear();
  }

  private async callBack(url: string, sid: string, to: string): Promise<void> {
    const params: Record<string, string> = {
      AccountSid: FAKE_TWILIO_SID,
      ApiVersion: '2010-04-01',
      MessageSid: sid,
      SmsSid: sid,
      MessageStatus: 'delivered',
      SmsStatus: 'delivered',
      To: to,
      From: '+15005550006',
    };
    const signature = twilio.getExpectedTwilioSignature(FAKE_TWILIO_TOKEN, url, params);
    this.callbacks.sent += 1;
    let outcome: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      outcome = res.ok ? '2xx' : String(res.status);
    } catch (e) {
      outcome = e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : 'connection error';
    }
    if (outcome === '2xx') {
      this.callbacks.answered2xx += 1;
      this.callbacks.accepted.add(sid);
    } else {
      this.callbacks.answeredOther[outcome] = (this.callbacks.answeredOther[outcome] ?? 0) + 1;
    }
  }
}

export class ChaosSns extends FakeSns {
  /** Destination number → when its first published message reached the gate (noteCall). */
  readonly calledAt = new Map<string, number>();

  protected override answer(req: RecordedRequest): Answer {
    const answer = super.answer(req);
    if (answer.status === 200 && req.form.Action === 'Publish' && req.form.PhoneNumber)
      noteCall(this.calledAt, req, req.form.PhoneNumber);
    return answer;
  }

  override reset(): void {
    super.reset();
    this.calledAt.clear();
  }
}

/** Both fakes, each behind its gate. */
export class Providers {
  readonly twilio = new ChaosTwilio();
  readonly sns = new ChaosSns();
  twilioGate!: ProviderGate;
  snsGate!: ProviderGate;

  async start(): Promise<void> {
    this.twilioGate = new ProviderGate(
      'twilio',
      await this.twilio.start(),
      twilioError(503, 20503, 'Service Unavailable'),
    );
    this.snsGate = new ProviderGate(
      'sns',
      await this.sns.start(),
      snsError(503, 'ServiceUnavailable', 'Service is unavailable', 'Receiver'),
    );
    await this.twilioGate.start();
    await this.snsGate.start();
  }

  async stop(): Promise<void> {
    await this.twilioGate?.stop();
    await this.snsGate?.stop();
    await this.twilio.stop();
    await this.sns.stop();
  }

  /** Forget everything recorded; only while no service process runs. */
  async reset(): Promise<void> {
    await this.twilioGate.set('up');
    await this.snsGate.set('up');
    for (const gate of [this.twilioGate, this.snsGate])
      for (const mode of Object.keys(gate.seen) as (keyof typeof gate.seen)[]) gate.seen[mode] = 0;
    this.twilio.reset();
    this.sns.reset();
  }

  /** Messages that went out, both providers together. */
  get deliveredCount(): number {
    return this.twilio.sent.length + this.sns.published.length;
  }

  /** How many times each (number, body) went out, both providers together. */
  ledger(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (to: string, body: string) => {
      const key = ledgerKey(to, body);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    for (const m of this.twilio.sent) add(m.to, m.body);
    for (const m of this.sns.published) add(m.phoneNumber, m.message);
    return counts;
  }
}

export function ledgerKey(to: string, body: string): string {
  return `${to}\u0000${body}`;
}
