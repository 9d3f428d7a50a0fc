/** `kubectl kiln cancel RUN`: delete the run's Job or JobSet; its pods go in the background. */
import type { Command } from "commander";
import { type Deps, globalsOf, Session } from "../context";
import { explainApiError, statusCode } from "../errors";
import { validateRunName } from "../job";
import { dryRunSuffix, type DryRun } from "../output";
import { dryRunOption } from "./common";

export function registerCancel(program: Command, deps: Deps): void {
  program
    .command("cancel")
    .description(
      "cancel a run: delete its Job, or its JobSet (pods are removed in the background; checkpoints stay in the object store)",
    )
    .argument("<run>", "run name (its Job or JobSet)")
    .addOption(dryRunOption())
    .action(async (run: string, flags: { dryRun: DryRun }, cmd: Command) => {
      validateRunName(run);
      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      let deleted = `job.batch/${run}`;
      if (flags.dryRun !== "client") {
        const api = session.api;
        const ctx = {
          attempting: `cancelling run ${run} in namespace ${ns}`,
          server: api.server,
          namespace: ns,
          notFound: `no run ${run} in namespace ${ns} (kubectl kiln ls -n ${ns})`,
        };
        try {
          await api.deleteJob(ns, run, flags.dryRun === "server");
        } catch (err) {
          if (statusCode(err) !== 404) throw explainApiError(err, ctx);
          // Not a Job: a run with your own image is a JobSet; its Jobs, pods, Service and NetworkPolicy are its dependents.
          try {
            await api.deleteJobSet(ns, run, flags.dryRun === "server");
            deleted = `jobset.jobset.x-k8s.io/${run}`;
          } catch (err2) {
            throw explainApiError(err2, ctx);
          }
        }
      }
      deps.io.out(`${deleted} deleted${dryRunSuffix(flags.dryRun)}\n`);
    });
}
