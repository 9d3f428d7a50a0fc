/** @type {import('jest').Config} */
const tsJest = ["ts-jest", { tsconfig: { allowJs: true, esModuleInterop: true, isolatedModules: true, jsx: "react-jsx" } }];
// @kubernetes/client-node 1.x and a few of its dependencies are ESM-only: ts-jest turns them into CommonJS.
const esmPackages = ["@kubernetes/client-node", "openid-client", "oauth4webapi", "jose", "jsonpath-plus", "hpagent", "isomorphic-ws"].join("|");
const common = {
  testEnvironment: "node",
  transform: { "^.+\\.[tj]sx?$": tsJest },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages})/)`],
  // .kiln/ holds the local cluster's state, including the real node's unpacked images.
  modulePathIgnorePatterns: ["<rootDir>/.kiln/"],
};
module.exports = {
  projects: [
    // test/support/timeouts.ts: timeouts sized for a 2-core machine under load.
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/**/*.test.ts"], testPathIgnorePatterns: ["/test/e2e/", "/node_modules/"], setupFilesAfterEnv: ["<rootDir>/test/support/timeouts.ts"] },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/test/e2e/**/*.test.ts"] },
  ],
};
