import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Environment is read in one module; time is read in one module (the injected Clock's). */
const processEnv = {
  object: 'process',
  property: 'env',
  message: 'Read environment only in src/config/env.ts.',
};
const dateNow = {
  object: 'Date',
  property: 'now',
  message: 'Use the injected Clock (src/clock.ts creates it); for a deadline use performance.now().',
};
const argumentlessDate = {
  selector: "NewExpression[callee.name='Date'][arguments.length=0]",
  message: 'Use the injected Clock (src/clock.ts creates it).',
};

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/env.ts', 'src/clock.ts'],
    rules: {
      'no-restricted-properties': ['error', processEnv, dateNow],
      'no-restricted-syntax': ['error', argumentlessDate],
    },
  },
  {
    files: ['src/config/env.ts'],
    rules: {
      'no-restricted-properties': ['error', dateNow],
      'no-restricted-syntax': ['error', argumentlessDate],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@slack/*',
                '@aws-sdk/*',
                'ioredis',
                'bullmq',
                '**/slack/*',
                '**/aws/*',
                '**/store/*',
                '**/jobs/*',
                '**/http/*',
              ],
              message: 'domain/ is pure: talk to adapters through ports.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@slack/*', '**/slack/*', '**/slack/**'],
              message:
                'jobs/ reach people through domain ports (RequestNotifier, AuditChannel, HygieneNotifier), not Slack.',
            },
          ],
        },
      ],
    },
  },
);
