import { createHmac, hkdfSync } from 'node:crypto';

/**
 * The keyed hash of a phone number (E.164): HMAC-SHA256 under a key derived (HKDF) from
 * SMS_DATA_KEY with its own label, base64url (43 characters). What an erasure keeps of a number:
 * the suppression list's entry (`sms_opt_out_hashes`) and the request's record. Without the data
 * key the hash cannot be tested against guessed numbers.
 */
export class PhoneHasher {
  private readonly key: Buffer;

  constructor(dataKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', dataKey, 'sms-service', 'phone-hash-v1', 32));
  }

  hash(e164: string): string {
    return createHmac('sha256', this.key).update(e164, 'utf8').digest('base64url');
  }
}
