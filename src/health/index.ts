/** Liveness and readiness (PostgreSQL, Redis, what features contribute). */
export * from './health.controller';
export * from './health.module';
export * from './readiness';
export * from './redis.health';
export * from './replica.health';
