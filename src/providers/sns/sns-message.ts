/**
 * Amazon SNS HTTP(S) notifications: the envelope, its signature, and where its certificate and
 * subscribe link may live. Pure (the certificate and the clock are passed in).
 *
 * SNS signs the canonical string of a message: for each of a fixed list of fields present in the
 * message, "Name\nValue\n", in alphabetical order. SignatureVersion 1 is SHA1withRSA, 2 is
 * SHA256withRSA, with the public key of the X.509 certificate at SigningCertURL.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { WebhookRejectedError } from '../sms-provider';

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsEnvelope {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  UnsubscribeURL?: string;
}

/** The signed fields of each message type, in the order SNS concatenates them. */
const SIGNED_FIELDS: Record<SnsMessageType, readonly (keyof SnsEnvelope)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};
const TYPES = Object.keys(SIGNED_FIELDS) as SnsMessageType[];
/** SNS's own certificate and API hosts: sns.<region>.amazonaws.com (and .com.cn in China). */
const AWS_SNS_HOST = /^sns\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;
const TOPIC_ARN =
  /^arn:aws(?:-[a-z]+)*:sns:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;
const MAX_MESSAGE_CHARS = 256 * 1024;

/**
 * The body as an SNS envelope (SNS posts JSON as text/plain). Anything without a signature, or
 * of another signature version, is refused as unsigned (403); a signed envelope with a malformed
 * field is a 400 naming it.
 */
export function parseSnsEnvelope(body: unknown): SnsEnvelope {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      throw new WebhookRejectedError('signature', 'not an SNS message (the body is not JSON)');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new WebhookRejectedError('signature', 'not an SNS message');
  const m = value as Record<string, unknown>;
  if (typeof m.Signature !== 'string' || m.Signature === '' || typeof m.SigningCertURL !== 'string')
    throw new WebhookRejectedError('signature', 'unsigned SNS message');
  if (m.SignatureVersion !== '1' && m.SignatureVersion !== '2')
    throw new WebhookRejectedError('signature', 'unsupported SNS SignatureVersion');
  if (typeof m.Type !== 'string' || !(TYPES as string[]).includes(m.Type))
    throw bad('Type', 'is not an SNS message type');
  for (const f of SIGNED_FIELDS[m.Type as SnsMessageType]) {
    const v = m[f];
    const optional = f === 'Subject';
    if (v === undefined && optional) continue;
    if (typeof v !== 'string') throw bad(f, 'is required');
  }
  if ((m.Message as string).length > MAX_MESSAGE_CHARS) throw bad('Message', 'is too long');
  if (!TOPIC_ARN.test(m.TopicArn as string)) throw bad('TopicArn', 'is not an SNS topic ARN');
  if (Number.isNaN(Date.parse(m.Timestamp as string))) throw bad('Timestamp', 'is not a date-time');
  return m as unknown as SnsEnvelope;
}

/** The string SNS signed for this message. */
export function canonicalString(m: SnsEnvelope): string {
  let out = '';
  for (const f of SIGNED_FIELDS[m.Type]) {
    const v = m[f];
    if (v === undefined) continue;
    out += `${f}\n${v}\n`;
  }
  return out;
}

/** True when `certificatePem` signed this message (SignatureVersion 1: SHA1, 2: SHA256). */
export function verifySnsSignature(m: SnsEnvelope, certificatePem: string, now: Date): boolean {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch {
    return false;
  }
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return false;
  const verifier = createVerify(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  verifier.update(canonicalString(m), 'utf8');
  try {
    return verifier.verify(cert.publicKey, m.Signature, 'base64');
  } catch {
    return false;
  }
}

/** The region named by a topic ARN. */
export function topicRegion(topicArn: string): string | null {
  return TOPIC_ARN.exec(topicArn)?.[1] ?? null;
}

/**
 * Why a SigningCertURL or SubscribeURL must not be fetched, or null: it must be https on
 * sns.<region>.amazonaws.com with the topic's region (certificates: SimpleNotificationService-<hex>.pem), or start with
 * one of the `trusted` origins (SNS_CERT_HOST_ALLOWLIST: local stacks and tests).
 */
export function snsUrlProblem(
  raw: string,
  topicArn: string,
  kind: 'certificate' | 'subscribe',
  trusted: readonly string[],
): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${kind} URL is not a URL`;
  }
  if (url.username || url.password) return `${kind} URL carries credentials`;
  if (trusted.includes(url.origin)) return null;
  if (url.protocol !== 'https:' || url.port !== '') return `${kind} URL is not https on the default port`;
  const host = AWS_SNS_HOST.exec(url.hostname);
  if (!host) return `${kind} URL host ${url.hostname.slice(0, 80)} is not sns.<region>.amazonaws.com`;
  if (host[1] !== topicRegion(topicArn)) return `${kind} URL region is not the topic's region`;
  // SNS's signing certificates are named SimpleNotificationService-<hex>.pem: anything else at that
  // host is not worth a fetch a stranger could make the service repeat.
  if (
    kind === 'certificate' &&
    (url.search !== '' ||
      url.hash !== '' ||
      !/^\/SimpleNotificationService-[0-9a-f]{1,64}\.pem$/.test(url.pathname))
  )
    return 'certificate URL is not an SNS signing certificate (/SimpleNotificationService-<hex>.pem)';
  return null;
}

/** Older than `maxAgeMs` (or more than 5 minutes in the future): a replayed or forged message. */
export function isStale(m: SnsEnvelope, now: Date, maxAgeMs: number): boolean {
  const at = Date.parse(m.Timestamp);
  return now.getTime() - at > maxAgeMs || at - now.getTime() > 5 * 60_000;
}

function bad(name: string, what: string): WebhookRejectedError {
  return new WebhookRejectedError('payload', `${name} ${what}`, name);
}
