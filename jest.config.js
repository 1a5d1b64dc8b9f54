/** Three tiers: pure unit specs beside the code (src/**); medium specs (test/medium/**) that call
 * services and repositories on the real PostgreSQL and Redis, without HTTP; e2e specs (test/**)
 * that boot the real app. `npm test` runs all three, serially, in one worker process that Jest
 * replaces when a suite leaves its heap above 1.5 GB (170 suites in one process once ran out of
 * heap in CI; a worker that dies fails its own suite, not the run). */
// Transpile only (fast); `npm run typecheck` type-checks tests and sources together.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.spec.json' }];
// Node loads these ES-module-only dependencies of @fastify/static (Swagger UI's and bull-board's
// assets) with require(); Jest does not (before Node 24.9), so it transpiles them to CommonJS.
const ESM_ONLY = ['content-disposition'];
const esm = {
  transform: {
    '^.+\\.ts$': tsJest,
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: [`^(?!.*/node_modules/(${ESM_ONLY.join('|')})/).*/node_modules/`],
};
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
      ...esm,
    },
    {
      displayName: 'medium',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testRegex: '\\.medium-spec\\.ts$',
      ...esm,
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
      ...esm,
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      testTimeout: 60000,
    },
  ],
};
