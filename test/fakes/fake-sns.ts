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
  readonly published: { messageId: string; phoneNumber: string; message: string; smsType?: string }[] = [];

  protected answer(req: RecordedRequest): Answer {
    const f = req.form;
    if (req.method !== 'POST' || f.Action !== 'Publish')
      return snsError(400, 'InvalidAction', `unsupported action ${f.Action}`);
    if (!f.PhoneNumber || !/^\+[1-9]\d{6,14}$/.test(f.PhoneNumber)) {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: invalid phone number');
    }
    let smsType: string | undefined;
    for (let i = 1; f[`MessageAttributes.entry.${i}.Name`]; i++) {
      if (f[`MessageAttributes.entry.${i}.Name`] === 'AWS.SNS.SMS.SMSType')
        smsType = f[`MessageAttributes.entry.${i}.Value.StringValue`];
    }
    const messageId = randomUUID();
    this.published.push({ messageId, phoneNumber: f.PhoneNumber, message: f.Message, smsType });
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
