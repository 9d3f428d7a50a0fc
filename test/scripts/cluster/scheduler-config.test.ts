import * as fs from "node:fs";
import * as path from "node:path";
import {
  GPU_PACKING_WEIGHT,
  HARNESS_CLIENT_RATE,
  localSchedulerConfig,
} from "../../../scripts/cluster/scheduler-config";
import { GPU_RESOURCE } from "../../../contract/gpu";

describe("the local kube-scheduler's configuration", () => {
  const cfg = localSchedulerConfig("/pki/kube-scheduler.kubeconfig") as any;

  it("bin-packs the contract's GPU resource (MostAllocated), weighted above CPU and memory", () => {
    const [profile] = cfg.profiles;
    expect(profile.schedulerName).toBe("default-scheduler");
    const fit = profile.pluginConfig.find((p: { name: string }) => p.name === "NodeResourcesFit");
    expect(fit.args.scoringStrategy.type).toBe("MostAllocated");
    const weights = Object.fromEntries(
      fit.args.scoringStrategy.resources.map((r: { name: string; weight: number }) => [r.name, r.weight]),
    );
    expect(weights).toEqual({ [GPU_RESOURCE]: GPU_PACKING_WEIGHT, cpu: 1, memory: 1 });
    expect(GPU_PACKING_WEIGHT).toBeGreaterThan(1);
  });

  it("uses the given kubeconfig, the harness's client rate and no leader election", () => {
    expect(cfg.clientConnection).toEqual({ kubeconfig: "/pki/kube-scheduler.kubeconfig", qps: 200, burst: 400 });
    expect(cfg.leaderElection).toEqual({ leaderElect: false });
  });

  it("has the client rate up.sh gives kube-controller-manager and JobSet", () => {
    const up = fs.readFileSync(path.join(__dirname, "../../../scripts/cluster/up.sh"), "utf8");
    const { qps, burst } = HARNESS_CLIENT_RATE;
    expect(up).toContain(`--kube-api-qps ${qps} --kube-api-burst ${burst}`);
    expect(up).toMatch(new RegExp(`clientConnection:\\n  qps: ${qps}\\n  burst: ${burst}\\n`));
  });

  it("is the configuration the harness starts kube-scheduler with", () => {
    const up = fs.readFileSync(path.join(__dirname, "../../../scripts/cluster/up.sh"), "utf8");
    expect(up).toMatch(/scripts\/cluster\/scheduler-config\.ts --kubeconfig "\$kcfg"\) >"\$cfg"/);
    expect(up).toMatch(/kube-scheduler" --config "\$cfg"/);
  });
});
