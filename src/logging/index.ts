/** pino logging with request ids and redaction. */
export * from './logging.module';
