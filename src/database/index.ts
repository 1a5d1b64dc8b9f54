/** The data source shared by the app, the CLI and tests; bootstrap (create, migrate under a lock); advisory locks. Names no feature. */
export * from './advisory-lock';
export * from './bootstrap';
export * from './data-source';
export * from './replica-reads';
