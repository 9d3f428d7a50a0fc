/**
 * Suites that need something a machine may lack (Chromium, root, the native TensorFlow build) run when it
 * is there and are skipped loudly when it is not: the skipped title carries the reason and the command
 * that enables it, and test/support/skip-reporter.js repeats every such skip at the end of the run.
 */

/** What a suite needs. */
export interface Requirement {
  /** What runs only with it, e.g. "the dashboard's browser tests". */
  readonly what: string;
  /** Why it is missing here; undefined when it is present. */
  readonly missing: string | undefined;
  /** The command that enables it, e.g. "sudo bash scripts/test/install-browser.sh". */
  readonly enable: string;
}

/** Marks a skipped title; the reporter reads the reason and the command from it. */
export const SKIPPED = "[SKIPPED: ";

/** The title of a skipped suite or test: `<title> [SKIPPED: <why>; enable: <command>]`. */
export function skippedTitle(title: string, req: Requirement): string {
  return `${title} ${SKIPPED}${req.missing}; enable: ${req.enable}]`;
}

/** `describe` when the requirement is met, else a `describe.skip` whose title says why and how to enable it. */
export function describeIf(req: Requirement): (title: string, fn: () => void) => void {
  if (req.missing === undefined) return (title, fn) => describe(title, fn);
  console.warn(`SKIPPING ${req.what}: ${req.missing}; enable: ${req.enable}`);
  return (title, fn) => describe.skip(skippedTitle(title, req), fn);
}

/** Registers one skipped test that names a requirement left out of parameterised tests (e.g. a backend). */
export function recordSkip(req: Requirement): void {
  if (req.missing === undefined) return;
  test.skip(skippedTitle(req.what, req), () => undefined);
}
