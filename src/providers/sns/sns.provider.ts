import {
  GetSMSAttributesCommand,
  MessageAttributeValue,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { isTransactional } from '../../core/message-types';
import { senderKind } from '../../core/sender-identity';
import {
  CONNECTION_ERROR_CODES,
  OutboundSms,
  ProviderError,
  ProviderSendResult,
  SmsProvider,
} from '../sms-provider';

export interface SnsOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string;
  timeoutMs: number;
  /** Who messages without a sender of their own come from (a tenant account's origination identity). */
  defaultSender?: string;
}

/** The recipient or content is bad: no fallback, no retry. */
const PERMANENT = new Set([
  'InvalidParameterException',
  'InvalidParameterValueException',
  'OptedOutException',
]);
interface AwsErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Pure: which kind of failure an SNS SDK error is. */
export function classifySnsError(e: unknown): ProviderError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as AwsErrorLike;
  const name = err.name ?? 'Error';
  if (
    name === 'TimeoutError' ||
    err.code === 'ETIMEDOUT' ||
    name === 'AbortError' ||
    name === 'RequestTimeout'
  ) {
    return new ProviderError('sns', 'timeout', 'sns:timeout', 'SNS did not answer in time');
  }
  if (err.code && CONNECTION_ERROR_CODES.has(err.code)) {
    return new ProviderError('sns', 'retryable', `sns:${err.code}`, `cannot reach SNS (${err.code})`);
  }
  const short = name.replace(/Exception$/, '');
  if (PERMANENT.has(name)) {
    const optedOut = name === 'OptedOutException';
    return new ProviderError('sns', 'permanent', `sns:${short}`, err.message ?? name, optedOut);
  }
  const status = err.$metadata?.httpStatusCode ?? 0;
  if (
    status >= 400 &&
    status < 500 &&
    status !== 429 &&
    status !== 401 &&
    status !== 403 &&
    !/Throttl/i.test(name)
  ) {
    return new ProviderError('sns', 'permanent', `sns:${short}`, err.message ?? name);
  }
  return new ProviderError('sns', 'retryable', `sns:${short}`, err.message ?? name);
}

/** SNS's own rule for a sender ID: 3-11 letters and digits, at least one letter, no spaces. */
const SNS_SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{3,11}$/;

/**
 * Pure: the message attributes that say who an SMS is from. A number goes as
 * `AWS.MM.SMS.OriginationNumber` (it must be an origination number of the AWS account), an
 * alphanumeric sender ID as `AWS.SNS.SMS.SenderID` when SNS takes its form (else none: SNS would
 * refuse the message). A Twilio Messaging Service SID means nothing to SNS: no attribute. Without
 * any, SNS uses the account's defaults (DefaultSenderID, its own origination pool).
 */
export function snsSenderAttributes(
  sender: string | null | undefined,
): Record<string, MessageAttributeValue> {
  if (!sender) return {};
  switch (senderKind(sender)) {
    case 'number':
      return { 'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: sender } };
    case 'alphanumeric':
      return SNS_SENDER_ID.test(sender)
        ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: sender } }
        : {};
    case 'messaging_service':
      return {};
  }
}

export class SnsProvider implements SmsProvider {
  readonly name = 'sns' as const;
  private readonly client: SNSClient;

  constructor(private readonly opts: SnsOptions) {
    this.client = new SNSClient({
      region: opts.region,
      endpoint: opts.endpoint,
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      // The router and the queue retry; the SDK must not send the same SMS twice on its own.
      maxAttempts: 1,
      requestHandler: { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs },
    });
  }

  /**
   * Publish has no validity period or time to live for SMS (its SMS attributes are the sender ID,
   * origination number, SMS type, max price and the Indian DLT ids), so `sms.validitySeconds` is not
   * passed on: the worker's own check before the call is the guard, and once SNS has a message it
   * may still hand it to the carrier after the validity ended.
   */
  async send(sms: OutboundSms): Promise<ProviderSendResult> {
    try {
      const out = await this.client.send(
        new PublishCommand({
          PhoneNumber: sms.to,
          Message: sms.body,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': {
              DataType: 'String',
              // A custom type's template decides (sms.transactional); a built-in type by itself.
              StringValue:
                (sms.transactional ?? isTransactional(sms.messageType)) ? 'Transactional' : 'Promotional',
            },
            ...snsSenderAttributes(sms.sender ?? this.opts.defaultSender),
          },
        }),
      );
      if (!out.MessageId)
        throw new ProviderError('sns', 'retryable', 'sns:no_message_id', 'SNS answered without a MessageId');
      return {
        provider: 'sns',
        providerMessageId: out.MessageId,
        status: 'sent',
        cost: null,
        currency: null,
      };
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      throw classifySnsError(e);
    }
  }

  classifyError(e: unknown): ProviderError {
    return classifySnsError(e);
  }

  /**
   * A harmless read that proves the credentials (a tenant's own account, on save): the account's
   * default SMS type (GetSMSAttributes; the key needs sns:GetSMSAttributes). Throws the classified
   * error.
   */
  async checkAccount(): Promise<void> {
    try {
      await this.client.send(new GetSMSAttributesCommand({ attributes: ['DefaultSMSType'] }));
    } catch (e) {
      throw classifySnsError(e);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
