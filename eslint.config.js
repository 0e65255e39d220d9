// @ts-check
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import jsdoc from 'eslint-plugin-jsdoc';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.ecp-data/**', 'test-artifacts/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Cedar is reached only through policy/cedarEngine.ts, which turns off a V8 optimisation that crashes Node 20.
    files: ['**/*.ts'],
    ignores: ['policy/cedarEngine.ts', 'workflows/**/*.ts', 'common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@cedar-policy/*'], message: 'Import Cedar from policy/cedarEngine instead (see why there).' }] },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no Node-only modules.
    // workflows/bundle.ts and bundleOutputs.ts are the Node-side bundler of that code, outside the bundle
    // (.dependency-cruiser.cjs checks that no workflow code imports them).
    files: ['workflows/**/*.ts', 'common/**/*.ts'],
    ignores: ['workflows/bundle.ts', 'workflows/bundleOutputs.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not available in the workflow sandbox.' })),
          patterns: [
            {
              group: [
                '**/activities',
                '**/activities/*',
                '**/worker',
                '**/worker/*',
                '**/client',
                '**/client/*',
                '**/policy/*',
                '**/config/*',
              ],
              message: 'Node-only code must not reach the workflow bundle.',
              allowTypeImports: true,
            },
            {
              group: ['@temporalio/worker', '@temporalio/client', '@cedar-policy/*', 'ajv'],
              message: 'Not sandbox-safe.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // The client library, the adapters and common/ are what integrators read: every export carries TSDoc.
    files: ['client/**/*.ts', 'common/**/*.ts', 'adapters/**/*.ts'],
    plugins: { jsdoc },
    rules: {
      'jsdoc/require-jsdoc': [
        'error',
        {
          publicOnly: true,
          require: { FunctionDeclaration: true, ClassDeclaration: true, MethodDefinition: false },
          contexts: [
            'TSInterfaceDeclaration',
            'TSTypeAliasDeclaration',
            'TSEnumDeclaration',
            'ExportNamedDeclaration > VariableDeclaration',
          ],
        },
      ],
    },
  },
);
