import type { MessageType, ProviderName } from './message-types';

/**
 * A code that converted: a verification check succeeded on the code a message carried. What
 * routing needs to score a provider for a destination country.
 */
export interface CodeConversion {
  tenantId: number;
  /** The provider that took the message. */
  provider: ProviderName;
  /** The destination's ISO 3166 alpha-2 country (libphonenumber); null: non-geographic or unknown. */
  country: string | null;
  messageType: MessageType;
  /** From `sent_at` (`created_at` when it was not sent by then) to the successful check. */
  secondsFromSend: number;
}

/**
 * The port through which conversions reach whoever scores providers (adaptive routing). Messaging
 * calls `converted` once per conversion, after the check that made it has committed, and only for
 * a message a provider took (`provider` known); a throw or a rejected promise is logged and never
 * fails the check. Optional: with no binding, conversions are recorded and nobody is told.
 *
 * To bind it, provide this class as the token in a module that `MessagingModule` imports (and
 * export it there), e.g. `{ provide: ConversionObserver, useExisting: RoutingScores }`.
 */
export abstract class ConversionObserver {
  abstract converted(conversion: CodeConversion): void | Promise<void>;
}
