/** The accounting the dashboard shows: the plugin's own (cli/src/usage.ts), as `ls`, `status` and `usage` show it. */
import { usageOfRuns, usageOfTeams } from "../usage";
import type { Accounting } from "./accounting";

export function defaultAccounting(): Accounting {
  return { usageOfRuns, usageOfTeams };
}
