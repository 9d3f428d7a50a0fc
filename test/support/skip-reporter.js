/**
 * A jest reporter that ends a run which skipped something for want of a prerequisite with loud lines:
 * what was skipped, why, and the command that enables it (titles made by test/support/skips.ts). Tests
 * left out by -t or a path filter are not prerequisites and are not reported.
 */

const path = require("node:path");

const MARK = /\[SKIPPED: (.*); enable: (.*)\]$/;

class SkipReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    /** "why; enable" -> {why, enable, files: Set, tests: number} */
    this.skips = new Map();
  }

  onTestResult(_test, result) {
    for (const t of result.testResults) {
      if (t.status !== "pending") continue;
      const marked = [...t.ancestorTitles, t.title].map((title) => MARK.exec(title)).find(Boolean);
      if (!marked) continue;
      const key = `${marked[1]}\n${marked[2]}`;
      const entry = this.skips.get(key) ?? { why: marked[1], enable: marked[2], files: new Set(), tests: 0 };
      entry.files.add(path.relative(this.rootDir, result.testFilePath));
      entry.tests += 1;
      this.skips.set(key, entry);
    }
  }

  /** The lines for the end of the run ("" when nothing was skipped for a prerequisite). */
  text() {
    if (this.skips.size === 0) return "";
    const bar = "=".repeat(100);
    const lines = [bar];
    for (const s of this.skips.values()) {
      lines.push(`SKIPPED ${s.tests} test${s.tests === 1 ? "" : "s"} in ${[...s.files].sort().join(", ")}: ${s.why}`);
      lines.push(`  enable with: ${s.enable}`);
    }
    lines.push(bar);
    return `\n${lines.join("\n")}\n`;
  }

  /** Printed as the process exits, so that it comes after jest's summary (stderr writes are synchronous then). */
  onRunComplete() {
    const text = this.text();
    if (text) process.once("exit", () => process.stderr.write(text));
  }
}

module.exports = SkipReporter;
