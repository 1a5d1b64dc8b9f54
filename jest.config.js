/** Three tiers: pure unit specs beside the code (src/**); medium specs (test/medium/**) that call
 * services and repositories on the real PostgreSQL and Redis, without HTTP; e2e specs (test/**)
 * that boot the real app. `npm test` runs all three, serially. */
// Transpile only (fast); `npm run typecheck` type-checks tests and sources together.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.spec.json' }];
module.exports = {
  testTimeout: 30000,
  // Something (not yet found: see the session note) keeps a handle open after the last suite;
  // without this a finished run would wait for it forever.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testRegex: '\\.spec\\.ts$',
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'medium',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testRegex: '\\.medium-spec\\.ts$',
      transform: { '^.+\\.ts$': tsJest },
      // The same files as e2e: Jest runs a global setup path once per run, so both tiers share
      // one database and one Redis prefix.
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testRegex: '\\.e2e-spec\\.ts$',
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      testTimeout: 60000,
    },
  ],
};
