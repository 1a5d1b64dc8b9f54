/** The public surface of inbound SMS: the module and the service webhooks hand texts to. */
export { InboundModule } from './inbound.module';
export { InboundService, KEYWORD_SOURCE } from './inbound.service';
export type { InboundOutcome } from './inbound.service';
