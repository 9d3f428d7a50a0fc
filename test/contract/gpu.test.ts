/**
 * The GPU contract has one home (contract/gpu.ts): the chart's defaults equal it, the program passes
 * it, and a run the plugin makes has exactly the scheduling fields of the chart rendered with those GPUs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { V1CronJob, V1PodSpec } from "@kubernetes/client-node";
import YAML from "yaml";
import { jobFromTemplate } from "../../cli/src/job";
import { chartGpuContract, GPU_POOL_LABEL, GPU_RESOURCE, GPU_TAINT, gpuPodScheduling } from "../../contract/gpu";
import { renderTrainer, TRAINER_CHART } from "../charts/helm";

/** The fields that decide where a pod may run and what it holds. */
function scheduling(pod: V1PodSpec) {
  const c = pod.containers.find((x) => x.name === "trainer")!;
  const gpusEnv = c.env?.find((e) => e.name === "KILN_GPUS")?.value;
  return {
    tolerations: pod.tolerations,
    nodeSelector: pod.nodeSelector,
    affinity: pod.affinity,
    requests: c.resources?.requests,
    limits: c.resources?.limits,
    gpusEnv,
  };
}
const chartPod = (values: Record<string, unknown>) =>
  (renderTrainer(values).find("CronJob", "kiln-trainer") as unknown as V1CronJob).spec!.jobTemplate.spec!.template
    .spec!;
const template = (values: Record<string, unknown>) =>
  renderTrainer(values).find("CronJob", "kiln-trainer") as unknown as V1CronJob;
const pluginPod = (values: Record<string, unknown>, gpus: number) =>
  jobFromTemplate(template(values), { name: "run-1", namespace: "kiln-ml", specText: "{}", gpus }).spec!.template.spec!;
/** What the Pulumi program hands the chart (TrainerRelease). */
const program = { gpuContract: chartGpuContract() };

describe("the GPU contract", () => {
  test("charts/trainer/values.yaml's gpuContract defaults are the contract module's", () => {
    const values = YAML.parse(fs.readFileSync(path.join(TRAINER_CHART, "values.yaml"), "utf8"));
    expect(values.gpuContract).toEqual(chartGpuContract());
  });

  test("a GPU pod tolerates exactly the GPU nodes' taint and requests the contract's resource", () => {
    const s = gpuPodScheduling(4, "h100");
    expect(s).toEqual({
      resources: { [GPU_RESOURCE]: "4" },
      tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
      nodeSelector: { [GPU_POOL_LABEL]: "h100" },
    });
    expect(gpuPodScheduling(0, "h100")).toEqual({ resources: {}, tolerations: [], nodeSelector: {} });
    expect(() => gpuPodScheduling(-1)).toThrow(/integer >= 0/);
  });

  test.each([
    ["CPU template", { gpus: 0 }, 4, { gpus: 4 }],
    ["1-GPU template", { gpus: 1 }, 4, { gpus: 4 }],
    ["pinned pool", { gpus: 1, gpuPool: "h100" }, 4, { gpus: 4, gpuPool: "h100" }],
    ["GPU -> CPU", { gpus: 2, gpuPool: "h100" }, 0, { gpus: 0 }],
  ])(
    "kubectl kiln submit --gpus N on a %s = the chart rendered with N GPUs",
    (_what, templateValues, gpus, chartValues) => {
      const fromPlugin = scheduling(pluginPod({ ...program, ...templateValues }, gpus));
      const fromChart = scheduling(chartPod({ ...program, ...chartValues }));
      expect(fromPlugin).toEqual(fromChart);
    },
  );

  test("a chart whose toleration differs from the contract is caught by that comparison", () => {
    // The plugin writes the contract's toleration; a chart rendering another one no longer matches.
    const drifted = {
      gpuContract: {
        ...chartGpuContract(),
        tolerations: [{ key: GPU_TAINT.key, operator: "Equal", value: "true", effect: "NoSchedule" }],
      },
    };
    expect(scheduling(pluginPod({ ...drifted, gpus: 0 }, 4))).not.toEqual(
      scheduling(chartPod({ ...drifted, gpus: 4 })),
    );
  });
});
