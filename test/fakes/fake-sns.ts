import { randomUUID } from 'node:crypto';
import { Answer, FakeHttpServer, RecordedRequest } from './fake-http';

/** SNS's XML error body (AWS Query protocol). */
export function snsError(
  status: number,
  code: string,
  message: string,
  type: 'Sender' | 'Receiver' = 'Sender',
): Answer {
  return {
    status,
    contentType: 'text/xml',
    body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** Speaks SNS Publish over the Query protocol: form-encoded POST /, XML replies. */
export class FakeSns extends FakeHttpServer {
  readonly published: {
    messageId: string;
    phoneNumber: string;
    message: string;
    smsType?: string;
    /** Every message attribute, name → StringValue (AWS.SNS.SMS.SenderID, AWS.MM.SMS.OriginationNumber…). */
    attributes: Record<string, string>;
    /** The access key id that signed the request. */
    accessKeyId: string | null;
  }[] = [];
  /** Access key ids refused as AWS refuses an unknown key (403 InvalidClientTokenId), until reset(). */
  readonly refusedKeys = new Set<string>();

  protected answer(req: RecordedRequest): Answer {
    const f = req.form;
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? null;
    if (accessKeyId && this.refusedKeys.has(accessKeyId))
      return snsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (req.method === 'POST' && f.Action === 'GetSMSAttributes') {
      return {
        status: 200,
        contentType: 'text/xml',
        body: `<GetSMSAttributesResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><GetSMSAttributesResult><attributes><entry><key>DefaultSMSType</key><value>Transactional</value></entry></attributes></GetSMSAttributesResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetSMSAttributesResponse>`,
      };
    }
    if (req.method !== 'POST' || f.Action !== 'Publish')
      return snsError(400, 'InvalidAction', `unsupported action ${f.Action}`);
    if (!f.PhoneNumber || !/^\+[1-9]\d{6,14}$/.test(f.PhoneNumber)) {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: invalid phone number');
    }
    const attributes: Record<string, string> = {};
    for (let i = 1; f[`MessageAttributes.entry.${i}.Name`]; i++)
      attributes[f[`MessageAttributes.entry.${i}.Name`]] =
        f[`MessageAttributes.entry.${i}.Value.StringValue`];
    const smsType = attributes['AWS.SNS.SMS.SMSType'];
    const messageId = randomUUID();
    this.published.push({
      messageId,
      phoneNumber: f.PhoneNumber,
      message: f.Message,
      smsType,
      attributes,
      accessKeyId,
    });
    return {
      status: 200,
      contentType: 'text/xml',
      body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }

  override reset(): void {
    super.reset();
    this.published.length = 0;
    this.refusedKeys.clear();
  }
}
