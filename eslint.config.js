// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import n from "eslint-plugin-n";
import globals from "globals";

const ioModules = [
  "node:fs",
  "node:fs/promises",
  "node:net",
  "node:dgram",
  "node:child_process",
  "node:process",
  "fs",
  "net",
  "child_process",
  "process",
];

export default tseslint.config(
  {
    // packages/*/assembly: AssemblyScript, checked and compiled by asc, not by tsc.
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "**/coverage/**",
      "packages/*/assembly/**",
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ["*.js", "tools/*/*.js"],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { n },
    rules: {
      "n/prefer-node-protocol": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
      "no-restricted-exports": [
        "error",
        {
          restrictDefaultExports: {
            direct: true,
            named: true,
            defaultFrom: true,
            namedFrom: true,
            namespaceFrom: true,
          },
        },
      ],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@portknock/*/*", "!@portknock/*/package.json"],
              message: "Import other packages by name only (STYLE.md §1).",
            },
            {
              group: ["../../*/src/*", "../../../packages/*"],
              message: "Import other packages by name only (STYLE.md §1).",
            },
          ],
        },
      ],
    },
  },
  {
    // The pure core does no I/O (STYLE.md §6).
    files: ["packages/codec/src/**/*.ts", "packages/*/src/**/parse-*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: ioModules.map((name) => ({
            name,
            message: "The pure core does no I/O (STYLE.md §6).",
          })),
          patterns: [
            {
              group: ["@portknock/*/*"],
              message: "Import other packages by name only (STYLE.md §1).",
            },
          ],
        },
      ],
      "no-restricted-globals": ["error", "process"],
    },
  },
  {
    // Config files of tools are allowed a default export (vitest needs one).
    files: ["vitest.workspace.ts", "**/vitest.config.ts", "eslint.config.js"],
    rules: { "no-restricted-exports": "off" },
  },
  {
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
