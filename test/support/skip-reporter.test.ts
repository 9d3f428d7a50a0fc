/**
 * The end-of-run lines for skipped prerequisites (test/support/skip-reporter.js) over jest results as
 * jest hands them to a reporter: marked skips are named with their reason and command, once per reason;
 * tests merely filtered out (-t, also "pending") are not.
 */
import * as path from "node:path";
import { skippedTitle } from "./skips";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SkipReporter = require("./skip-reporter.js");

const ROOT = path.resolve(__dirname, "../..");
const chromium = {
  what: "the dashboard's browser tests",
  missing: "no Chromium at /usr/bin/chromium",
  enable: "sudo bash scripts/test/install-browser.sh",
};

function result(file: string, tests: { ancestorTitles: string[]; title: string; status: string }[]) {
  return { testFilePath: path.join(ROOT, file), testResults: tests };
}

function endOfRun(results: ReturnType<typeof result>[]): string {
  const reporter = new SkipReporter({ rootDir: ROOT });
  for (const r of results) reporter.onTestResult({}, r);
  return reporter.text();
}

describe("the skip reporter", () => {
  test("names each skipped prerequisite once, with the files, the number of tests and the command", () => {
    const suite = skippedTitle("the dashboard in headless Chromium", chromium);
    const out = endOfRun([
      result("test/cli/dashboard/browser.test.ts", [
        { ancestorTitles: [suite], title: "runs table", status: "pending" },
        { ancestorTitles: [suite], title: "curve", status: "pending" },
      ]),
      result("test/trainer-image/train.test.ts", [
        {
          ancestorTitles: [],
          title: skippedTitle("the trainer's tests on the tensorflow backend", {
            what: "",
            missing: "no addon",
            enable: "npm run native -w trainer-image",
          }),
          status: "pending",
        },
      ]),
    ]);
    expect(out).toContain(
      "SKIPPED 2 tests in test/cli/dashboard/browser.test.ts: no Chromium at /usr/bin/chromium\n  enable with: sudo bash scripts/test/install-browser.sh\n",
    );
    expect(out).toContain(
      "SKIPPED 1 test in test/trainer-image/train.test.ts: no addon\n  enable with: npm run native -w trainer-image\n",
    );
  });

  test("says nothing when only unmarked tests were left out (a -t filter) or nothing was skipped", () => {
    expect(
      endOfRun([
        result("test/cli/commands.test.ts", [
          { ancestorTitles: ["ls"], title: "lists runs", status: "pending" },
          { ancestorTitles: [], title: "x", status: "passed" },
        ]),
      ]),
    ).toBe("");
  });
});
