/** The OpenAPI contract: document config, completion of every operation, the brief's examples. */
export * from './examples';
export * from './openapi';
