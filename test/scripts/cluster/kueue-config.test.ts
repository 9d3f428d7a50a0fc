import { localKueueConfig } from "../../../scripts/cluster/kueue-config";
import { KUEUE_JOBSET_FRAMEWORK, KUEUE_WAIT_FOR_PODS_READY } from "../../../contract/workload";
import { kueueManagerConfig } from "../../../infra/cluster/kueue-config";

const ports = { health: 18081, metrics: 18080, webhook: 19443, certDir: "/tmp/certs" };

describe("the local Kueue controller's configuration", () => {
  it("admits Jobs and JobSets and applies the contract's waitForPodsReady, on loopback ports", () => {
    const cfg = localKueueConfig({ ...ports, jobset: true }) as any;
    expect(cfg.integrations.frameworks).toEqual(["batch/job", KUEUE_JOBSET_FRAMEWORK]);
    expect(cfg.waitForPodsReady).toEqual(KUEUE_WAIT_FOR_PODS_READY);
    expect(cfg.health.healthProbeBindAddress).toBe("127.0.0.1:18081");
    expect(cfg.metrics.bindAddress).toBe("127.0.0.1:18080");
    expect(cfg.webhook).toEqual({ host: "127.0.0.1", port: 19443, certDir: "/tmp/certs" });
  });

  it("leaves the JobSet integration out when JobSet is not installed (Kueue checks its CRD at start)", () => {
    expect((localKueueConfig({ ...ports, jobset: false }) as any).integrations.frameworks).toEqual(["batch/job"]);
  });

  it("says what the aws stack's Kueue says about gang admission, integrations and workers per controller and client rate", () => {
    const aws = kueueManagerConfig({ jobset: true }) as any;
    const local = localKueueConfig({ ...ports, jobset: true }) as any;
    expect(local.waitForPodsReady).toEqual(aws.waitForPodsReady);
    expect(local.integrations).toEqual(aws.integrations);
    expect(local.controller).toEqual(aws.controller);
    expect(local.clientConnection).toEqual(aws.clientConnection);
  });
});
