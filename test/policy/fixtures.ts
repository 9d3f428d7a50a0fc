/**
 * A small compliant "stack" touching every rule, and one mutation per rule that breaks exactly
 * that rule. Resources are plain rule subjects: the same shape both policy runners produce.
 */
import type { PolicySubject } from "../../policy/rules";

type Mutable = {
  type: string;
  name: string;
  urn: string;
  props: Record<string, any>;
  dependencies: string[];
  provider?: PolicySubject["provider"];
};

export const TAGS = { "kiln:cluster": "kiln-t", "kiln:stack": "t" };
const urn = (type: string, name: string) => `urn:pulumi:t::kiln::${type}::${name}`;

export class World {
  readonly resources: Mutable[] = [];

  add(type: string, name: string, props: Record<string, any>, dependsOn: Mutable[] = []): Mutable {
    // Deep copy: mutations of one world must not leak into shared constants (TAGS, RESTRICTED, ...).
    const r = {
      type,
      name,
      urn: urn(type, name),
      props: JSON.parse(JSON.stringify(props)) as Record<string, any>,
      dependencies: dependsOn.map((d) => d.urn),
    };
    this.resources.push(r);
    return r;
  }

  get(name: string): Mutable {
    const r = this.resources.find((x) => x.name === name);
    if (!r) throw new Error(`fixture has no resource ${name}`);
    return r;
  }

  remove(name: string): void {
    this.resources.splice(this.resources.indexOf(this.get(name)), 1);
  }

  subjects(): PolicySubject[] {
    return this.resources.map((r) => ({ ...r, props: JSON.parse(JSON.stringify(r.props)) }));
  }
}

const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const TLS_DENY = {
  Sid: "DenyInsecureTransport",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};
const RESTRICTED = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
};

/** Everything compliant. */
export function compliantWorld(): World {
  const w = new World();
  const key = w.add("aws:kms/key:Key", "key", { enableKeyRotation: true, tags: TAGS });
  const bucket = w.add("aws:s3/bucket:Bucket", "bucket", { bucket: "kiln-t-datasets", tags: TAGS });
  w.add(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "bucket-sse",
    {
      bucket: "kiln-t-datasets",
      rules: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: "arn:aws:kms:us-west-2:1:key/k",
          },
          bucketKeyEnabled: true,
        },
      ],
    },
    [bucket, key],
  );
  w.add(
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "bucket-pab",
    {
      bucket: "kiln-t-datasets",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    [bucket],
  );
  w.add("aws:s3/bucketPolicy:BucketPolicy", "bucket-policy", { bucket: "kiln-t-datasets", policy: doc(TLS_DENY) }, [
    bucket,
  ]);
  w.add(
    "aws:s3/bucketVersioning:BucketVersioning",
    "bucket-versioning",
    { bucket: "kiln-t-datasets", versioningConfiguration: { status: "Enabled" } },
    [bucket],
  );

  w.add("aws:eks/cluster:Cluster", "cluster", {
    encryptionConfig: { provider: { keyArn: "arn:aws:kms:us-west-2:1:key/k" }, resources: ["secrets"] },
    enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    vpcConfig: {
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24"],
      subnetIds: ["s1", "s2"],
    },
    accessConfig: { authenticationMode: "API" },
    tags: TAGS,
  });
  w.add("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3", volumeSize: 50 } }],
    tags: TAGS,
  });
  w.add("aws:eks/nodeGroup:NodeGroup", "system", {
    launchTemplate: { id: "lt-1", version: "1" },
    scalingConfig: { minSize: 2, desiredSize: 2, maxSize: 4 },
    tags: TAGS,
  });
  w.add("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "nodeclass", {
    metadata: { name: "kiln-gpu" },
    spec: {
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: true, volumeSize: "200Gi" } }],
      tags: TAGS,
    },
  });
  w.add("kubernetes:karpenter.sh/v1:NodePool", "nodepool", {
    metadata: { name: "a10g" },
    spec: {
      template: {
        metadata: { labels: { "kiln.dev/gpu-pool": "a10g" } },
        spec: {
          requirements: [{ key: "karpenter.k8s.aws/instance-family", operator: "In", values: ["g5"] }],
          taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
        },
      },
      limits: { "nvidia.com/gpu": 8 },
      disruption: { consolidationPolicy: "WhenEmpty", consolidateAfter: "10m" },
    },
  });
  // A p5 pool with EFA: the label (its node class carries the EFA security group) and the device plugin.
  w.add("kubernetes:karpenter.sh/v1:NodePool", "nodepool-h100", {
    metadata: { name: "h100" },
    spec: {
      template: {
        metadata: { labels: { "kiln.dev/gpu-pool": "h100", "kiln.dev/efa": "true" } },
        spec: {
          requirements: [{ key: "node.kubernetes.io/instance-type", operator: "In", values: ["p5.48xlarge"] }],
          taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
        },
      },
      limits: { "nvidia.com/gpu": 16 },
      disruption: { consolidationPolicy: "WhenEmpty", consolidateAfter: "10m" },
    },
  });
  w.add("kubernetes:helm.sh/v3:Release", "efa-device-plugin", {
    chart: "aws-efa-k8s-device-plugin",
    version: "v0.5.30",
    namespace: "kube-system",
    values: {
      image: {
        repository: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-efa-k8s-device-plugin",
        tag: "v0.5.20",
      },
    },
  });

  w.add("aws:iam/role:Role", "trainer-role", {
    assumeRolePolicy: doc({
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    }),
    tags: TAGS,
  });
  w.add("aws:iam/rolePolicy:RolePolicy", "trainer-policy", {
    policy: doc(
      {
        Sid: "Read",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:ListBucket"],
        Resource: ["arn:aws:s3:::kiln-t-datasets", "arn:aws:s3:::kiln-t-datasets/*"],
      },
      {
        Sid: "Key",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: "arn:aws:kms:us-west-2:1:key/k",
      },
      { Sid: "Ec2", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" },
    ),
  });
  w.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "node-ecr", {
    role: "node",
    policyArn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  });
  w.add("aws:ec2/securityGroup:SecurityGroup", "endpoints-sg", {
    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }],
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    tags: TAGS,
  });
  w.add("aws:ecr/repository:Repository", "repo", {
    imageTagMutability: "IMMUTABLE",
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:us-west-2:1:key/k" }],
    tags: TAGS,
  });
  w.add("aws:sqs/queue:Queue", "interruptions", { sqsManagedSseEnabled: true, tags: TAGS });

  const ns = w.add("kubernetes:core/v1:Namespace", "team-ns", {
    metadata: {
      name: "kiln-research",
      labels: { "kiln.dev/team": "research", "pod-security.kubernetes.io/enforce": "restricted" },
    },
  });
  const inNs = { namespace: "kiln-research" };
  w.add(
    "kubernetes:core/v1:ResourceQuota",
    "team-quota",
    { metadata: { name: "q", ...inNs }, spec: { hard: { "requests.nvidia.com/gpu": "8" } } },
    [ns],
  );
  w.add(
    "kubernetes:core/v1:LimitRange",
    "team-limits",
    { metadata: { name: "l", ...inNs }, spec: { limits: [{ type: "Container", defaultRequest: { cpu: "500m" } }] } },
    [ns],
  );
  w.add(
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "team-deny",
    { metadata: { name: "default-deny", ...inNs }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    [ns],
  );
  w.add(
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "team-dns",
    {
      metadata: { name: "allow-dns", ...inNs },
      spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ protocol: "UDP", port: 53 }] }] },
    },
    [ns],
  );
  w.add(
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "team-role",
    {
      metadata: { name: "kiln-submitter", ...inNs },
      rules: [{ apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list"] }],
    },
    [ns],
  );
  w.add(
    "kubernetes:batch/v1:Job",
    "team-job",
    {
      metadata: { name: "smoke", ...inNs },
      spec: {
        template: {
          spec: {
            securityContext: { runAsNonRoot: true },
            containers: [
              { name: "trainer", image: "registry.example/kiln/trainer:0.1.0", securityContext: RESTRICTED },
            ],
          },
        },
      },
    },
    [ns],
  );
  w.add("kubernetes:apps/v1:DaemonSet", "device-plugin", {
    metadata: { name: "nvidia-device-plugin", namespace: "kube-system" },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "plugin",
              image: "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
              securityContext: { allowPrivilegeEscalation: false },
            },
          ],
          volumes: [{ name: "device-plugin", hostPath: { path: "/var/lib/kubelet/device-plugins" } }],
        },
      },
    },
  });
  w.add("kubernetes:core/v1:Service", "dcgm-svc", {
    metadata: { name: "dcgm", namespace: "kube-system" },
    spec: { type: "ClusterIP", ports: [{ port: 9400 }] },
  });
  w.add(
    "kubernetes:helm.sh/v3:Release",
    "trainer-release",
    {
      chart: "/repo/charts/trainer",
      namespace: "kiln-research",
      values: { image: { repository: "registry.example/kiln/trainer", tag: "0.1.0" }, gpus: 1 },
    },
    [ns],
  );
  w.add("kubernetes:helm.sh/v3:Release", "kueue", {
    chart: "oci://registry.k8s.io/kueue/charts/kueue",
    version: "0.14.8",
    values: {},
  });
  w.add("kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor", "flavor-a10g", {
    metadata: { name: "a10g" },
    spec: { nodeLabels: { "kiln.dev/gpu-pool": "a10g" } },
  });
  w.add("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "cq-research", {
    metadata: { name: "kiln-research" },
    spec: {
      cohort: "kiln",
      resourceGroups: [
        {
          coveredResources: ["cpu", "memory"],
          flavors: [
            {
              name: "cpu",
              resources: [
                { name: "cpu", nominalQuota: "64" },
                { name: "memory", nominalQuota: "512Gi" },
              ],
            },
          ],
        },
        {
          coveredResources: ["nvidia.com/gpu"],
          flavors: [{ name: "a10g", resources: [{ name: "nvidia.com/gpu", nominalQuota: 8, borrowingLimit: 0 }] }],
        },
      ],
    },
  });
  return w;
}

/** One mutation per rule; each must make exactly that rule fail. */
export const BREAKS: Record<string, (w: World) => void> = {
  "s3-encryption-kms": (w) =>
    (w.get("bucket-sse").props.rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" }),
  "s3-public-access-block": (w) => (w.get("bucket-pab").props.restrictPublicBuckets = false),
  "s3-tls-only": (w) => (w.get("bucket-policy").props.policy = doc({ ...TLS_DENY, Condition: undefined })),
  "s3-versioning": (w) => (w.get("bucket-versioning").props.versioningConfiguration.status = "Suspended"),
  "s3-no-public-acl": (w) => (w.get("bucket").props.acl = "public-read"),
  "s3-bucket-controls": (w) => w.remove("bucket-pab"),
  "eks-secrets-encryption": (w) => delete w.get("cluster").props.encryptionConfig,
  "eks-control-plane-logs": (w) => (w.get("cluster").props.enabledClusterLogTypes = ["api", "audit"]),
  "eks-endpoint-access": (w) => (w.get("cluster").props.vpcConfig.publicAccessCidrs = ["0.0.0.0/0"]),
  "eks-authentication-mode": (w) => delete w.get("cluster").props.accessConfig,
  "eks-nodegroup-no-ssh": (w) => (w.get("system").props.remoteAccess = { ec2SshKey: "admin" }),
  "eks-nodegroup-launch-template": (w) => delete w.get("system").props.launchTemplate,
  "launch-template-imdsv2": (w) => (w.get("lt").props.metadataOptions.httpPutResponseHopLimit = 2),
  "launch-template-ebs-encrypted": (w) => (w.get("lt").props.blockDeviceMappings[0].ebs.encrypted = "false"),
  "nodeclass-imdsv2": (w) => (w.get("nodeclass").props.spec.metadataOptions.httpTokens = "optional"),
  "nodeclass-ebs-encrypted": (w) => delete w.get("nodeclass").props.spec.blockDeviceMappings,
  "gpu-nodepool-taint": (w) => (w.get("nodepool").props.spec.template.spec.taints = []),
  "gpu-nodepool-limit": (w) => (w.get("nodepool").props.spec.limits = { cpu: "1000" }),
  "gpu-nodepool-efa": (w) => delete w.get("nodepool-h100").props.spec.template.metadata.labels["kiln.dev/efa"],
  "gpu-nodepool-disruption": (w) =>
    (w.get("nodepool").props.spec.disruption.consolidationPolicy = "WhenEmptyOrUnderutilized"),
  "iam-no-wildcards": (w) =>
    (w.get("trainer-policy").props.policy = doc({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" })),
  "iam-no-broad-managed-policies": (w) =>
    (w.get("node-ecr").props.policyArn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
  "iam-trust-scoped": (w) =>
    (w.get("trainer-role").props.assumeRolePolicy = doc({
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "sts:AssumeRole",
    })),
  "sg-no-public-ingress": (w) => (w.get("endpoints-sg").props.ingress[0].cidrBlocks = ["0.0.0.0/0"]),
  "k8s-no-external-services": (w) => (w.get("dcgm-svc").props.spec.type = "LoadBalancer"),
  "k8s-no-open-egress": (w) =>
    w.get("team-dns").props.spec.egress.push({
      to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } }],
      ports: [{ protocol: "TCP", port: 443 }],
    }),
  "ecr-immutable-tags": (w) => (w.get("repo").props.imageTagMutability = "MUTABLE"),
  "ecr-scan-on-push": (w) => (w.get("repo").props.imageScanningConfiguration.scanOnPush = false),
  "ecr-kms-encryption": (w) => (w.get("repo").props.encryptionConfigurations = [{ encryptionType: "AES256" }]),
  "kms-key-rotation": (w) => (w.get("key").props.enableKeyRotation = false),
  "sqs-encryption": (w) => (w.get("interruptions").props.sqsManagedSseEnabled = false),
  "aws-required-tags": (w) => (w.get("repo").props.tags = { owner: "ml" }),
  "nodeclass-required-tags": (w) => (w.get("nodeclass").props.spec.tags = { owner: "ml" }),
  "namespace-pss-restricted": (w) =>
    (w.get("team-ns").props.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"),
  "namespace-gpu-quota": (w) => w.remove("team-quota"),
  "namespace-default-deny": (w) => w.remove("team-deny"),
  "namespace-limit-range": (w) => w.remove("team-limits"),
  "trainer-pod-security": (w) =>
    (w.get("team-job").props.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false),
  "workload-hardening": (w) =>
    w.get("device-plugin").props.spec.template.spec.volumes.push({ name: "root", hostPath: { path: "/" } }),
  "images-pinned": (w) =>
    (w.get("device-plugin").props.spec.template.spec.containers[0].image = "nvcr.io/nvidia/k8s-device-plugin:latest"),
  "helm-chart-pinned": (w) => delete w.get("kueue").props.version,
  "kueue-clusterqueue-gpu-quota": (w) =>
    delete w.get("cq-research").props.spec.resourceGroups[1].flavors[0].resources[0].nominalQuota,
  "kueue-quota-within-pool-limits": (w) =>
    (w.get("cq-research").props.spec.resourceGroups[1].flavors[0].resources[0].nominalQuota = 16),
  "rbac-no-wildcards": (w) => (w.get("team-role").props.rules[0].verbs = ["*"]),
};
