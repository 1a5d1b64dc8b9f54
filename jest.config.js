/** Two tiers: pure unit specs beside the code (src/**), and e2e specs (test/**) that boot the
 * real app against the real PostgreSQL and Redis. `npm test` runs both, serially. */
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
