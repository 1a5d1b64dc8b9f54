import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // Module boundaries: outside its own folder, a feature is imported through its index.ts only.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(\\./|(\\.\\./)+)(messaging|templates|verification|appointments|providers|tenancy|sdk|jobs|phone|webhooks|audit|monitoring|analytics|callbacks|inbound|campaigns)/',
              message: "Import another feature through its index ('../<feature>'), not its internal files.",
            },
          ],
        },
      ],
      // A parser's errors must be answered as 413/415/400, not reach the exception filter (500):
      // every body is read by src/common/body-parsers.ts.
      'no-restricted-properties': [
        'error',
        {
          property: 'addContentTypeParser',
          message: 'Bodies are read by registerBodyParsers() in src/common/body-parsers.ts.',
        },
      ],
    },
  },
  {
    // Every periodic loop is a registered job (src/jobs/job-registry.ts), scheduled by JobScheduler.
    // The two exceptions refresh this process's own in-memory state and are not jobs.
    files: ['src/**/*.ts'],
    ignores: [
      'src/**/*.spec.ts',
      'src/jobs/job-scheduler.ts',
      'src/providers/providers.module.ts',
      'src/messaging/policies/pricing.service.ts',
    ],
    rules: {
      'no-restricted-globals': [
        'error',
        {
          name: 'setInterval',
          message:
            'A periodic loop is a job: register it in src/jobs/job-registry.ts with its interval setting.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts', 'src/**/*.cli.ts', 'src/database/cli.ts'],
    rules: { 'no-console': 'off' },
  },
);
