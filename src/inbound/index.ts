/** The public surface of inbound SMS: the module and the service webhooks hand texts to. */
export { InboundModule } from './inbound.module';
export { InboundService, KEYWORD_SOURCE } from './inbound.service';
export type { InboundOutcome } from './inbound.service';
// Its part in a number's data-subject requests (src/privacy).
export { inboundPersonalData } from './inbound-personal-data';
