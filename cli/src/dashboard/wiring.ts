/** The accounting the dashboard shows, from cli/src/usage.ts once it exists in this build. */
import type { Accounting } from "./accounting";

/** null until the plugin's accounting module (cli/src/usage.ts) is wired in: the pages then say cost is unavailable. */
export function defaultAccounting(): Accounting | null {
  return null;
}
