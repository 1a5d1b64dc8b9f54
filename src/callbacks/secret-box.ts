import { randomBytes } from 'node:crypto';
import { SealedBox } from '../common/sealed-box';

/** Webhook signing secrets at rest, sealed under a key of their own (derived from the data key). */
export class SecretBox extends SealedBox {
  constructor(dataKey: string) {
    super(dataKey, 'webhook-secret-v1');
  }
}

/** A new signing secret: 32 random bytes, shown to the tenant once. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
