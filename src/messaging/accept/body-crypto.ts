import { SealedBox } from '../../common/sealed-box';

/**
 * What a message carrying a secret (a code) holds in clear until it is handed over: its text and,
 * for a WhatsApp template, the template's variables (the code is one of them). Stored sealed in
 * `body_ciphertext`, so everything that erases it (the code used, the message canceled, expired or
 * erased) erases both.
 */
export interface SealedSecret {
  text: string;
  contentVariables?: Record<string, string>;
}

/** Marks a sealed secret with variables (a JSON object); without it the sealed text is the body (as before). */
const WITH_VARIABLES = '\u0001';

/**
 * The full body of code messages between accept and hand-over, sealed, so the clear code survives
 * a Redis loss without ever being stored in clear. The key is derived from SMS_DATA_KEY.
 */
export class BodyCrypto {
  private readonly box: SealedBox;

  constructor(secret: string) {
    this.box = new SealedBox(secret, 'message-body-v1');
  }

  seal(secret: SealedSecret): string {
    return this.box.seal(secret.contentVariables ? WITH_VARIABLES + JSON.stringify(secret) : secret.text);
  }

  open(sealed: string): SealedSecret {
    const plain = this.box.open(sealed);
    if (!plain.startsWith(WITH_VARIABLES)) return { text: plain };
    const { text, contentVariables } = JSON.parse(plain.slice(1)) as SealedSecret;
    return { text, contentVariables };
  }
}

export const REDACTED = '******';

/** Replaces every occurrence of each secret in a text. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join(REDACTED);
  return out;
}
