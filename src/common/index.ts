/** Shared infrastructure: errors and their HTTP mapping, the clock, batching, semaphores, validation, the queue worker, `within` (a promise or a timeout). Imports no feature. */
export * from './api-errors';
export * from './batcher';
export * from './chunked';
export * from './clock';
export * from './clock.module';
export * from './dto-fields';
export * from './errors';
export * from './exception.filter';
export * from './http-server';
export * from './queue-worker';
export * from './request-text';
export * from './request-text.guard';
export * from './sealed-box';
export * from './semaphore';
export * from './validation';
export * from './within';
