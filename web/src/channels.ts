import { CHANNELS as SERVICE_CHANNELS } from '../../src/core/channels';
import type { Schemas } from './api';

/** A channel as the contract names it: sms, whatsapp or mms (docs/sending.md, Channels). */
export type Channel = Schemas['TemplateResponseDto']['channel'];

// The service's channels; assigning them here fails the build if the contract disagrees.
export const CHANNELS: readonly Channel[] = SERVICE_CHANNELS;

export const isChannel = (s: string): s is Channel => (CHANNELS as readonly string[]).includes(s);

/** Media URLs: one per line (or separated by spaces). Empty: undefined. */
export function splitUrls(text: string): string[] | undefined {
  const items = text
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
}
