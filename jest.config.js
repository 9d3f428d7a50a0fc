/** @type {import('jest').Config} */
// `--selectProjects` is variadic: `jest --selectProjects unit test/cli` selects a project named "test/cli"
// too and runs every unit suite. Refuse that at once instead of running the whole suite.
const selected = process.argv.indexOf("--selectProjects");
if (selected >= 0) {
  const path = process.argv
    .slice(selected + 1)
    .find((a, i, rest) => !a.startsWith("-") && rest.slice(0, i).every((b) => !b.startsWith("-")) && /[/.]/.test(a));
  if (path)
    throw new Error(
      `jest: --selectProjects takes project names (unit, e2e), not '${path}': put test paths first, e.g. npx jest ${path} --selectProjects unit`,
    );
}
const tsJest = [
  "ts-jest",
  { tsconfig: { allowJs: true, esModuleInterop: true, isolatedModules: true, jsx: "react-jsx" } },
];
// @kubernetes/client-node 1.x and a few of its dependencies, and hyparquet (the trainer's Parquet reader), are ESM-only: ts-jest turns them into CommonJS.
const esmPackages = [
  "@kubernetes/client-node",
  "openid-client",
  "oauth4webapi",
  "jose",
  "jsonpath-plus",
  "hpagent",
  "isomorphic-ws",
  "hyparquet",
  "hyparquet-compressors",
  "hyparquet-writer",
  "hysnappy",
  "fzstd",
].join("|");
const common = {
  testEnvironment: "<rootDir>/test/support/node-realm-environment.js",
  transform: { "^.+\\.[tj]sx?$": tsJest },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages})/)`],
  // .kiln/ holds the local cluster's state, including the real node's unpacked images.
  modulePathIgnorePatterns: ["<rootDir>/.kiln/"],
};
module.exports = {
  // The default output, then one loud line per prerequisite a run skipped tests for (test/support/skips.ts).
  reporters: ["default", "<rootDir>/test/support/skip-reporter.js"],
  projects: [
    // test/support/timeouts.ts: timeouts sized for a 2-core machine under load.
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["/test/e2e/", "/node_modules/"],
      setupFilesAfterEnv: ["<rootDir>/test/support/timeouts.ts"],
    },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/test/e2e/**/*.test.ts"] },
  ],
};
