/**
 * The local Kueue controller's Configuration (config.kueue.x-k8s.io/v1beta1), printed as YAML for
 * scripts/cluster/up.sh: loopback ports, no webhooks registered, Kiln's integrations (batch Jobs and
 * JobSets) and the same waitForPodsReady as the aws stack's Kueue (contract/workload.ts).
 *
 *   ts-node scripts/cluster/kueue-config.ts --health-port P --metrics-port P --webhook-port P --cert-dir DIR
 */
import { Command, InvalidArgumentError } from "commander";
import YAML from "yaml";
import { KUEUE_JOBSET_FRAMEWORK, KUEUE_WAIT_FOR_PODS_READY } from "../../contract/workload";
import { KUEUE_NAMESPACE } from "../../contract/names";
import { KUEUE_CONFIG_API_VERSION } from "../../contract/kueue";
import { KUEUE_JOB_FRAMEWORK, kueueManagerConfig } from "../../infra/cluster/kueue-config";

export interface LocalKueuePorts {
  readonly health: number;
  readonly metrics: number;
  readonly webhook: number;
  readonly certDir: string;
  /** Frameworks besides batch/job; JobSet only when its CRD is installed (Kueue checks at start). */
  readonly jobset: boolean;
}

export function localKueueConfig(p: LocalKueuePorts): Record<string, unknown> {
  const awsKueue = kueueManagerConfig({ jobset: p.jobset }) as { controller: unknown; clientConnection: unknown };
  return {
    apiVersion: KUEUE_CONFIG_API_VERSION,
    kind: "Configuration",
    namespace: KUEUE_NAMESPACE,
    health: { healthProbeBindAddress: `127.0.0.1:${p.health}` },
    metrics: { bindAddress: `127.0.0.1:${p.metrics}` },
    // The webhook server listens (controller-runtime needs one) but no webhook configuration points at it:
    // simulated nodes cannot host a webhook pod, and a failurePolicy=Fail webhook nobody answers would block
    // every Job. Kiln's chart and plugin create queued Jobs and JobSets suspended, which is all Kueue needs.
    webhook: { host: "127.0.0.1", port: p.webhook, certDir: p.certDir },
    // Kueue 0.14 reads metrics certs from a fixed path unless it manages its own (Secret
    // kueue-system/kueue-webhook-server-cert, copied to certDir by up.sh); it finds no webhook
    // configurations to patch, which it logs and ignores.
    internalCertManagement: {
      enable: true,
      webhookServiceName: "kueue-webhook-service",
      webhookSecretName: "kueue-webhook-server-cert",
    },
    leaderElection: { leaderElect: false },
    // Workers per controller and client rate as the aws stack's Kueue has them: without them every controller
    // runs one worker, and Job unsuspension lags admission by minutes once a few hundred runs queue.
    controller: awsKueue.controller,
    clientConnection: awsKueue.clientConnection,
    manageJobsWithoutQueueName: false,
    waitForPodsReady: KUEUE_WAIT_FOR_PODS_READY,
    integrations: { frameworks: [KUEUE_JOB_FRAMEWORK, ...(p.jobset ? [KUEUE_JOBSET_FRAMEWORK] : [])] },
  };
}

function port(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new InvalidArgumentError(`${name} must be a port number, got '${v}'`);
    return n;
  };
}

export function main(argv: string[]): void {
  const o = new Command("kueue-config")
    .requiredOption("--health-port <port>", "readiness/liveness probe port", port("--health-port"))
    .requiredOption("--metrics-port <port>", "metrics port", port("--metrics-port"))
    .requiredOption("--webhook-port <port>", "webhook server port", port("--webhook-port"))
    .requiredOption("--cert-dir <dir>", "where up.sh writes the webhook server's certificate")
    .option("--no-jobset", "leave the JobSet integration out")
    .parse(argv)
    .opts<{ healthPort: number; metricsPort: number; webhookPort: number; certDir: string; jobset: boolean }>();
  process.stdout.write(
    YAML.stringify(
      localKueueConfig({
        health: o.healthPort,
        metrics: o.metricsPort,
        webhook: o.webhookPort,
        certDir: o.certDir,
        jobset: o.jobset,
      }),
    ),
  );
}

if (require.main === module) main(process.argv);
