import { withMessageFailure } from './message-failure';

describe('the failure in a message callback', () => {
  it('is added to message status events from their status and error_code', () => {
    const data = withMessageFailure('message.failed', {
      message_id: 'm1',
      status: 'failed',
      error_code: 'twilio:21614',
    });
    expect(data).toMatchObject({
      message_id: 'm1',
      error_code: 'twilio:21614',
      failure: { reason: 'not_mobile', retryable: false, provider: 'twilio', provider_code: '21614' },
    });
  });

  it('is null for a message that went out', () => {
    expect(withMessageFailure('message.delivered', { status: 'delivered', error_code: null })).toEqual({
      status: 'delivered',
      error_code: null,
      failure: null,
    });
  });

  it('leaves other events as they are', () => {
    const inbound = { inbound_id: 'i1', from: '+905321234567', body: 'STOP' };
    expect(withMessageFailure('message.inbound', inbound)).toBe(inbound);
    const alert = { status: 'open', kind: 'cost' };
    expect(withMessageFailure('alert.raised', alert)).toBe(alert);
  });
});
