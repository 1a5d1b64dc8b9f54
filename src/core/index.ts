/** The shared vocabulary of the service: pure, imports nothing from Nest, TypeORM, Redis or a feature. */
export * from './message-types';
export * from './status-machine';
export * from './encoding';
export * from './smart-encoding';
export * from './money';
export * from './countries';
export * from './spend';
export * from './quiet-hours';
export * from './keywords';
export * from './failure-reasons';
export * from './sender-identity';
export * from './validity';
export * from './conversion';
export * from './uuid7';
