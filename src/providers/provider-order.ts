import { AppConfig } from '../config/app-config';
import { ProviderName } from '../core/message-types';

/** Which providers are configured, in the order they are tried. Pure, for tests and docs. */
export function providerOrder(config: AppConfig): ProviderName[] {
  const twilio = Boolean(config.get('TWILIO_ACCOUNT_SID') && config.get('TWILIO_AUTH_TOKEN'));
  const sns = Boolean(config.get('AWS_ACCESS_KEY_ID') && config.get('AWS_SECRET_ACCESS_KEY'));
  const explicit = config.get('SMS_PROVIDERS');
  if (explicit) {
    for (const name of explicit) {
      if (name === 'twilio' && !twilio)
        throw new Error('SMS_PROVIDERS names twilio but TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are not set');
      if (name === 'sns' && !sns)
        throw new Error('SMS_PROVIDERS names sns but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set');
    }
    return explicit;
  }
  const order: ProviderName[] = [];
  if (twilio) order.push('twilio');
  if (sns) order.push('sns');
  return order.length ? order : ['sandbox'];
}
