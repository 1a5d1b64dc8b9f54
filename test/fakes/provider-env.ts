import { FAKE_TWILIO_SID, FAKE_TWILIO_TOKEN } from './fake-twilio';

/** The settings that point the real Twilio SDK at a fake Twilio at `url` (FakeTwilio.start()). */
export function fakeTwilioEnv(url: string): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: FAKE_TWILIO_SID,
    TWILIO_AUTH_TOKEN: FAKE_TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: url,
  };
}

/** The settings that point the real AWS SNS SDK at a fake SNS at `url` (FakeSns.start()). */
export function fakeSnsEnv(url: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    AWS_REGION: 'us-east-1',
    AWS_SNS_ENDPOINT: url,
  };
}
