/** pino logging with request ids and redaction. */
export * from './logging.module';
export { clientRequestId, currentClientRequestId, currentRequestId } from './request-context';
