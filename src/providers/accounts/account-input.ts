import type { FieldError } from '../../common/errors';
import { AccountCredentials, AccountProvider } from './provider-accounts.store';

const E164 = /^\+[1-9]\d{6,14}$/;
const FIELDS: Record<
  AccountProvider,
  Record<string, { required: boolean; pattern: RegExp; what: string }>
> = {
  twilio: {
    account_sid: {
      required: true,
      pattern: /^AC[0-9a-f]{32}$/,
      what: 'AC followed by 32 lower-case hex digits',
    },
    auth_token: { required: true, pattern: /^[\x21-\x7e]{8,128}$/, what: '8-128 printable characters' },
    phone_number: { required: false, pattern: E164, what: 'an E.164 number' },
    messaging_service_sid: {
      required: false,
      pattern: /^MG[0-9a-f]{32}$/,
      what: 'MG followed by 32 hex digits',
    },
  },
  sns: {
    access_key_id: { required: true, pattern: /^[A-Z0-9]{16,128}$/, what: '16-128 of A-Z 0-9' },
    secret_access_key: {
      required: true,
      pattern: /^[\x21-\x7e]{8,128}$/,
      what: '8-128 printable characters',
    },
    region: {
      required: true,
      pattern: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
      what: 'an AWS region such as eu-west-1',
    },
    origination_identity: {
      required: false,
      pattern: /^(\+[1-9]\d{6,14}|(?=.*[A-Za-z])[A-Za-z0-9]{3,11})$/,
      what: 'an E.164 number or a 3-11 character sender ID',
    },
  },
};

/**
 * Pure: a PUT body as one provider's credentials, or the problems naming each field. Fields of
 * the other provider are refused; Twilio needs phone_number or messaging_service_sid.
 */
export function parseAccountInput(
  provider: AccountProvider,
  body: Record<string, unknown>,
): { credentials: AccountCredentials } | { problems: FieldError[] } {
  const spec = FIELDS[provider];
  const problems: FieldError[] = [];
  const out: Record<string, string> = {};
  for (const [field, v] of Object.entries(body ?? {})) {
    if (v === undefined || v === null) continue;
    if (!spec[field]) problems.push({ field, errors: [`${field} is not a field of a ${provider} account`] });
  }
  for (const [field, rule] of Object.entries(spec)) {
    const v = body?.[field];
    if (v === undefined || v === null || v === '') {
      if (rule.required) problems.push({ field, errors: [`${field} is required`] });
      continue;
    }
    if (typeof v !== 'string' || !rule.pattern.test(v))
      problems.push({ field, errors: [`${field} must be ${rule.what}`] });
    else out[field] = v;
  }
  if (
    provider === 'twilio' &&
    !out.phone_number &&
    !out.messaging_service_sid &&
    !problems.some((p) => p.field === 'phone_number' || p.field === 'messaging_service_sid')
  )
    problems.push({ field: 'phone_number', errors: ['phone_number or messaging_service_sid is required'] });
  return problems.length ? { problems } : { credentials: out as unknown as AccountCredentials };
}
