/**
 * A/B template variants: which variant a recipient gets. Pure (node:crypto only).
 *
 * The choice is a stable hash of the test and the recipient's normalised number, so a resend (or
 * a retried campaign page) gets the same variant, and recipients spread over the variants in
 * proportion to their weights.
 */
import { createHash } from 'node:crypto';

export interface WeightedVariant {
  key: string;
  /** A positive integer; a variant's share is its weight over the sum of the weights. */
  weight: number;
}

/** What the hash is taken of: the template, the test (so a new test reshuffles) and the E.164 number. */
export interface VariantSeed {
  tenantId: number;
  templateId: string;
  testId: string;
  phoneNumber: string;
}

/** The recipient's position in [0, 1): the first 48 bits of sha256(tenant, template, test, number). */
export function variantPosition(seed: VariantSeed): number {
  const digest = createHash('sha256')
    .update(`${seed.tenantId}\u0000${seed.templateId}\u0000${seed.testId}\u0000${seed.phoneNumber}`)
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The variant for this recipient: the one whose slice of the cumulative weights holds their position. */
export function pickVariant<V extends WeightedVariant>(variants: readonly V[], seed: VariantSeed): V {
  if (variants.length === 0) throw new Error('pickVariant needs at least one variant');
  const total = variants.reduce((s, v) => s + v.weight, 0);
  const point = variantPosition(seed) * total;
  let upTo = 0;
  for (const v of variants) {
    upTo += v.weight;
    if (point < upTo) return v;
  }
  return variants[variants.length - 1];
}
