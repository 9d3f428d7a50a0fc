/** `kubectl kiln cancel RUN`: delete the run's Job; its pods go in the background. */
import { Command } from "commander";
import { Deps, globalsOf, Session } from "../context";
import { explainApiError } from "../errors";
import { validateRunName } from "../job";
import { dryRunSuffix, type DryRun } from "../output";
import { dryRunOption } from "./common";

export function registerCancel(program: Command, deps: Deps): void {
  program
    .command("cancel")
    .description("cancel a run: delete its Job (pods are removed in the background; checkpoints stay in the object store)")
    .argument("<run>", "run (Job) name")
    .addOption(dryRunOption())
    .action(async (run: string, flags: { dryRun: DryRun }, cmd: Command) => {
      validateRunName(run);
      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      if (flags.dryRun !== "client") {
        const api = session.api;
        try {
          await api.deleteJob(ns, run, flags.dryRun === "server");
        } catch (err) {
          throw explainApiError(err, {
            attempting: `cancelling run ${run} in namespace ${ns}`,
            server: api.server,
            namespace: ns,
            notFound: `no run ${run} in namespace ${ns} (kubectl kiln ls -n ${ns})`,
          });
        }
      }
      deps.io.out(`job.batch/${run} deleted${dryRunSuffix(flags.dryRun)}\n`);
    });
}
