/** Authentication and authorisation: the JWT strategy, the global guards, roles, the Principal, token signing. */
export * from './auth.module';
export * from './decorators';
export * from './guards';
export * from './jwt.strategy';
export * from './me.controller';
export * from './principal';
export * from './request-rate.guard';
export * from './tokens';
