// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.kumo/', '.serverless/', '.esbuild/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // CommonJS configuration files (dependency-cruiser reads only CommonJS or ESM without TypeScript).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Tests poke into untyped JSON responses and hand-built manifests.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Domain code must not reach for the environment: config is read once at the edge (shared/config.ts).
    files: ['shared/**/*.ts'],
    ignores: ['shared/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration in shared/config.ts only.' },
      ],
    },
  },
  {
    // A typed model: objects are read through Kubernetes' own types (shared/model/typed.ts, conditions.ts)
    // or checked field by field, not by asserting a shape on the spot. Where a cast is right, an
    // eslint-disable comment on the line says why.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'TSAsExpression > TSTypeLiteral, TSAsExpression > TSUnionType > TSTypeLiteral, TSAsExpression > TSArrayType > TSTypeLiteral, TSAsExpression > TSUnionType > TSArrayType > TSTypeLiteral',
          message:
            'A shape cast: read the object through shared/model/typed.ts or conditions.ts, or check its fields; where a cast is right, disable this rule on the line and say why.',
        },
      ],
    },
  },
  {
    // The AWS SDK stays in the adapters.
    files: ['shared/**/*.ts'],
    ignores: ['shared/store/dynamo/**', 'shared/queue/sqs/**', 'shared/aws/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*'],
              message: 'AWS SDK only in adapters (shared/store/dynamo, shared/queue/sqs, shared/aws).',
            },
          ],
        },
      ],
    },
  },
);
