/** Kubeconfig of an EKS cluster that authenticates with `aws eks get-token` (no static credentials). */
import * as pulumi from "@pulumi/pulumi";

export interface KubeconfigInput {
  readonly clusterName: pulumi.Input<string>;
  readonly endpoint: pulumi.Input<string>;
  /** Base64 PEM of the cluster CA. */
  readonly certificateAuthority: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
}

/** A kubeconfig (JSON, which is valid YAML) whose user runs `aws eks get-token`; marked secret. */
export function eksKubeconfig(k: KubeconfigInput): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([k.clusterName, k.endpoint, k.certificateAuthority, k.region]).apply(([name, endpoint, ca, region]) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server: endpoint, "certificate-authority-data": ca } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [
          {
            name,
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "aws",
                args: ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"],
                interactiveMode: "Never",
              },
            },
          },
        ],
      }),
    ),
  );
}
