/** The service's Redis client and Bull's connection options. */
export * from './redis.module';
