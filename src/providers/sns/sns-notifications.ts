import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { DeliveryReceipt } from '../receipts';
import { InboundSms, WebhookRejectedError } from '../sms-provider';
import { parseSnsEvent } from './sns-events';
import { isStale, parseSnsEnvelope, snsUrlProblem, verifySnsSignature } from './sns-message';

/** What one verified SNS notification asks of us. */
export type SnsOutcome =
  | { kind: 'subscribed'; topicArn: string }
  | { kind: 'receipt'; receipt: DeliveryReceipt }
  | { kind: 'inbound'; message: InboundSms }
  | { kind: 'ignored'; why: string }
  /** A verified SubscriptionConfirmation whose SubscribeURL failed: answer non-2xx so SNS tries again. */
  | { kind: 'unconfirmed'; topicArn: string; why: string };

/** A message older than this is refused (a replay). */
const MAX_AGE_MS = 60 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_CERT_BYTES = 16 * 1024;
const CERT_TTL_MS = 24 * 60 * 60_000;
const MAX_CACHED_CERTS = 32;

/**
 * SNS HTTP(S) notifications (`POST /api/sms/webhooks/sns`): verifies each message (topic allowed,
 * fresh, signed by the certificate at an SNS-owned SigningCertURL, fetched once and cached),
 * confirms subscriptions by calling SubscribeURL (same host rule), and reads notifications as
 * delivery receipts or inbound texts. Throws WebhookRejectedError ('signature': 403).
 */
@Injectable()
export class SnsNotifications {
  private readonly logger = new Logger(SnsNotifications.name);
  private readonly certs = new Map<string, { pem: Promise<string>; until: number }>();
  private readonly topics: readonly string[];
  private readonly trusted: readonly string[];

  constructor(config: AppConfig) {
    this.topics = list(config.get('SNS_TOPIC_ARNS'));
    this.trusted = list(config.get('SNS_CERT_HOST_ALLOWLIST')).map((o) => new URL(o).origin);
  }

  /** `now` is when the request arrived (the clock of the caller). */
  async handle(body: unknown, now: Date): Promise<SnsOutcome> {
    const m = parseSnsEnvelope(body);
    if (!this.topics.includes(m.TopicArn)) throw refused('SNS topic is not in SNS_TOPIC_ARNS');
    if (isStale(m, now, MAX_AGE_MS)) throw refused('SNS message is stale (Timestamp older than 1 hour)');
    const certProblem = snsUrlProblem(m.SigningCertURL, m.TopicArn, 'certificate', this.trusted);
    if (certProblem) throw refused(certProblem);
    const pem = await this.certificate(m.SigningCertURL);
    if (!verifySnsSignature(m, pem, now)) throw refused('invalid SNS signature');

    switch (m.Type) {
      case 'SubscriptionConfirmation': {
        const url = m.SubscribeURL as string;
        const problem = snsUrlProblem(url, m.TopicArn, 'subscribe', this.trusted);
        if (problem) throw refused(problem);
        const why = await callSubscribeUrl(url);
        if (why) {
          this.logger.warn({ topicArn: m.TopicArn, why }, 'SNS subscription not confirmed');
          return { kind: 'unconfirmed', topicArn: m.TopicArn, why };
        }
        this.logger.log({ topicArn: m.TopicArn }, 'SNS subscription confirmed');
        return { kind: 'subscribed', topicArn: m.TopicArn };
      }
      case 'UnsubscribeConfirmation':
        this.logger.warn({ topicArn: m.TopicArn }, 'SNS subscription removed');
        return { kind: 'ignored', why: 'unsubscribed' };
      case 'Notification': {
        const e = parseSnsEvent(m.Message, now);
        if (e.kind === 'receipt') return { kind: 'receipt', receipt: { ...e.receipt } };
        if (e.kind === 'inbound') return { kind: 'inbound', message: e.message };
        return { kind: 'ignored', why: e.what };
      }
    }
  }

  /** The certificate at `url`, fetched once per day (concurrent callers share one fetch). */
  private certificate(url: string): Promise<string> {
    const now = Date.now();
    const hit = this.certs.get(url);
    if (hit && hit.until > now) return hit.pem;
    if (this.certs.size >= MAX_CACHED_CERTS) this.certs.delete(this.certs.keys().next().value as string);
    const pem = fetchCertificate(url);
    this.certs.set(url, { pem, until: now + CERT_TTL_MS });
    pem.catch(() => this.certs.delete(url)); // a failed fetch is tried again next time
    return pem;
  }
}

/** Calls SubscribeURL (confirming the subscription); null when it answered 2xx, else why not. */
async function callSubscribeUrl(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.ok ? null : `SubscribeURL answered ${res.status}`;
  } catch (e) {
    const timedOut = e instanceof Error && e.name === 'TimeoutError';
    return timedOut ? 'SubscribeURL did not answer in time' : 'SubscribeURL could not be reached';
  }
}

async function fetchCertificate(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch {
    throw refused('SNS signing certificate could not be fetched');
  }
  const text = await res.text();
  if (!res.ok || text.length > MAX_CERT_BYTES || !text.includes('-----BEGIN CERTIFICATE-----'))
    throw refused('SNS signing certificate could not be fetched');
  return text;
}

function refused(message: string): WebhookRejectedError {
  return new WebhookRejectedError('signature', message);
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
