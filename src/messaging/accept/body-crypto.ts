import { SealedBox } from '../../common/sealed-box';

/**
 * The full body of code messages between accept and hand-over, sealed, so the clear code survives
 * a Redis loss without ever being stored in clear. The key is derived from SMS_DATA_KEY.
 */
export class BodyCrypto {
  private readonly box: SealedBox;

  constructor(secret: string) {
    this.box = new SealedBox(secret, 'message-body-v1');
  }

  encrypt(plain: string): string {
    return this.box.seal(plain);
  }

  decrypt(sealed: string): string {
    return this.box.open(sealed);
  }
}

export const REDACTED = '******';

/** Replaces every occurrence of each secret in a text. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join(REDACTED);
  return out;
}
