/** The data source shared by the app, the CLI and tests; bootstrap (create, migrate under a lock); advisory locks; strong locks taken in brief tries. Names no feature. */
export * from './advisory-lock';
export * from './bootstrap';
export * from './brief-locks';
export * from './data-source';
export * from './replica-reads';
