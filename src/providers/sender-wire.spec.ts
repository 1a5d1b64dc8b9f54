import { snsSenderAttributes } from './sns/sns.provider';
import { twilioSender } from './twilio/twilio.provider';

const SID = 'MG' + '0123456789abcdef'.repeat(2);
const CONFIGURED_SID = 'MG' + 'f'.repeat(32);

describe("a message's sender on each provider's wire", () => {
  describe('Twilio', () => {
    const numberDefault = { from: '+15005550006' };
    const serviceDefault = { from: '+15005550006', messagingServiceSid: CONFIGURED_SID };

    it('sends a number or an alphanumeric sender ID as From', () => {
      expect(twilioSender('+12025550100', serviceDefault)).toEqual({ from: '+12025550100' });
      expect(twilioSender('OKULUM', serviceDefault)).toEqual({ from: 'OKULUM' });
    });

    it('sends a Messaging Service SID as MessagingServiceSid', () => {
      expect(twilioSender(SID, numberDefault)).toEqual({ messagingServiceSid: SID });
    });

    it('without one, uses the configured Messaging Service, else the configured number', () => {
      expect(twilioSender(null, serviceDefault)).toEqual({ messagingServiceSid: CONFIGURED_SID });
      expect(twilioSender(undefined, numberDefault)).toEqual({ from: '+15005550006' });
    });
  });

  describe('SNS', () => {
    it('sends a number as AWS.MM.SMS.OriginationNumber', () => {
      expect(snsSenderAttributes('+12025550100')).toEqual({
        'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: '+12025550100' },
      });
    });

    it('sends an alphanumeric sender ID as AWS.SNS.SMS.SenderID', () => {
      expect(snsSenderAttributes('OKULUM')).toEqual({
        'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'OKULUM' },
      });
    });

    it("leaves out a sender ID SNS would refuse (a space, under 3 characters): the account's default", () => {
      expect(snsSenderAttributes('Okul 2')).toEqual({});
      expect(snsSenderAttributes('OK')).toEqual({});
    });

    it('sends nothing for a Messaging Service SID, or without a sender', () => {
      expect(snsSenderAttributes(SID)).toEqual({});
      expect(snsSenderAttributes(null)).toEqual({});
    });
  });
});
