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
  }[] = [];

  protected answer(req: RecordedRequest): Answer {
    const f = req.form;
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
    this.published.push({ messageId, phoneNumber: f.PhoneNumber, message: f.Message, smsType, attributes });
    return {
      status: 200,
      contentType: 'text/xml',
      body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }

  override reset(): void {
    super.reset();
    this.published.length = 0;
  }
}
