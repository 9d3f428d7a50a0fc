/**
 * The one Pulumi mock engine the offline plan (scripts/plan) and every infra test use. Resources get realistic
 * ids, ARNs and computed outputs so the program evaluates as it would in a preview; each recorded
 * resource also carries its parent and dependencies, read from the registration request itself.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** URN as the engine computes it (parent type chain included). */
  readonly urn: string;
  readonly id: string;
  /** Inputs as the program passed them (secrets still wrapped, unknowns as pulumi's `unknown`). */
  readonly inputs: Record<string, any>;
  readonly provider?: string;
  /** URN of the parent resource; undefined for top-level resources. */
  readonly parent?: string;
  /** URNs this resource depends on (dependsOn plus every resource its inputs came from). */
  readonly dependencies: readonly string[];
  /** False for component resources. */
  readonly custom: boolean;
}

const ACCOUNT = "123456789012";

/** Placeholder used for outputs only the cloud can know (and for unknown inputs in plans). */
export const COMPUTED = "<computed>";
/** What a secret value becomes in a plan. */
export const REDACTED = "[secret]";

/** Deterministic short suffix, like Pulumi's auto-naming (but stable across runs). */
function suffix(name: string): string {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0").slice(0, 7);
}

/** Computed outputs a real provider would fill in, keyed by type token. */
function computedOutputs(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, any> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  const physical = inputs.name ?? `${name}-${suffix(name)}`;
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = inputs.bucket ?? `${name}-${suffix(name)}`;
      return {
        bucket,
        arn: `arn:aws:s3:::${bucket}`,
        bucketDomainName: `${bucket}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        region,
      };
    }
    case "aws:kms/key:Key":
      return { arn: arn("kms", `key/${name}-id`), keyId: `${name}-id` };
    case "aws:kms/alias:Alias":
      return { arn: arn("kms", inputs.name ?? `alias/${name}`), targetKeyArn: inputs.targetKeyId };
    case "aws:iam/role:Role":
      return {
        arn: `arn:aws:iam::${ACCOUNT}:role/${physical}`,
        name: physical,
        uniqueId: `AROA${name
          .toUpperCase()
          .replace(/[^A-Z0-9]/g, "")
          .slice(0, 12)}`,
      };
    case "aws:iam/policy:Policy":
      return {
        arn: `arn:aws:iam::${ACCOUNT}:policy/${physical}`,
        name: physical,
        policyId: `ANPA${suffix(name).toUpperCase()}`,
      };
    case "aws:iam/instanceProfile:InstanceProfile":
      return { arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${physical}`, name: physical };
    case "aws:ec2/vpc:Vpc":
      return {
        arn: arn("ec2", `vpc/vpc-${name}`),
        defaultSecurityGroupId: `sg-default-${name}`,
        mainRouteTableId: `rtb-main-${name}`,
        defaultNetworkAclId: `acl-${name}`,
      };
    case "aws:ec2/subnet:Subnet":
      return { arn: arn("ec2", `subnet/subnet-${name}`) };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { arn: arn("ec2", `security-group/sg-${name}`), name: physical };
    case "aws:ec2/eip:Eip":
      return { allocationId: `eipalloc-${suffix(name)}`, publicIp: "198.51.100.10" };
    case "aws:ec2/natGateway:NatGateway":
      return { publicIp: "198.51.100.10", privateIp: "10.0.0.10" };
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      return { arn: arn("ec2", `vpc-endpoint/vpce-${suffix(name)}`), prefixListId: "pl-68a54001", dnsEntries: [] };
    case "aws:eks/cluster:Cluster":
      return {
        arn: arn("eks", `cluster/${physical}`),
        name: physical,
        endpoint: `https://${suffix(name).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: { data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" },
        identities: [
          { oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE` }] },
        ],
        vpcConfig: { ...(inputs.vpcConfig ?? {}), clusterSecurityGroupId: `sg-cluster-${name}`, vpcId: `vpc-${name}` },
        platformVersion: "eks.1",
        status: "ACTIVE",
        version: inputs.version ?? "1.34",
      };
    case "aws:eks/addon:Addon":
      return {
        arn: arn("eks", `addon/${inputs.clusterName ?? name}/${inputs.addonName ?? name}`),
        addonVersion: inputs.addonVersion ?? "v1.0.0-eksbuild.1",
      };
    case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
      return { associationArn: arn("eks", `podidentityassociation/${name}`), associationId: `a-${suffix(name)}` };
    case "aws:eks/accessEntry:AccessEntry":
      return { accessEntryArn: arn("eks", `access-entry/${name}`) };
    case "aws:ecr/repository:Repository":
      return {
        arn: arn("ecr", `repository/${physical}`),
        name: physical,
        registryId: ACCOUNT,
        repositoryUrl: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${physical}`,
      };
    case "aws:sqs/queue:Queue":
      return {
        arn: arn("sqs", physical),
        url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${physical}`,
        name: physical,
      };
    case "aws:cloudwatch/eventRule:EventRule":
      return { arn: arn("events", `rule/${physical}`), name: physical };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return {
        arn: arn("ec2", `launch-template/lt-${suffix(name)}`),
        latestVersion: 1,
        defaultVersion: 1,
        name: physical,
      };
    case "aws:eks/nodeGroup:NodeGroup":
      return {
        arn: arn("eks", `nodegroup/${name}`),
        status: "ACTIVE",
        resources: [{ autoscalingGroups: [{ name: `eks-${name}` }] }],
      };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${name}` };
    case "aws:fsx/lustreFileSystem:LustreFileSystem":
      return {
        arn: arn("fsx", `file-system/fs-${name}`),
        dnsName: `fs-${name}.fsx.${region}.amazonaws.com`,
        mountName: "abcdefgh",
      };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${name}` };
    case "random:index/randomString:RandomString":
      return { result: `mock-${suffix(name)}` };
    case "random:index/randomId:RandomId":
      return { hex: suffix(name), b64Std: suffix(name), b64Url: suffix(name), dec: "12345" };
    case "kubernetes:helm.sh/v3:Release":
      return {
        name: inputs.name ?? `${name}-${suffix(name)}`,
        status: {
          name: inputs.name ?? name,
          namespace: inputs.namespace ?? "default",
          status: "deployed",
          version: 1,
          chart: inputs.chart,
          appVersion: inputs.version ?? "0.0.0",
          revision: 1,
        },
      };
    default:
      if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh"))
        return kubernetesOutputs(type, name, inputs);
      if (type.startsWith("aws:"))
        return { arn: arn(type.split(":")[1].split("/")[0], name), ...(inputs.tags ? { tagsAll: inputs.tags } : {}) };
      return {};
  }
}

/** Kubernetes objects: auto-named metadata, a uid, and an empty status like the API server returns. */
function kubernetesOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const meta = (inputs.metadata ?? {}) as Record<string, any>;
  const clusterScoped =
    /:(Namespace|ClusterRole|ClusterRoleBinding|PriorityClass|ClusterQueue|ResourceFlavor|NodePool|EC2NodeClass|CustomResourceDefinition|StorageClass)$/.test(
      type,
    );
  return {
    metadata: {
      ...meta,
      name: meta.name ?? `${name}-${suffix(name)}`,
      ...(clusterScoped ? {} : { namespace: meta.namespace ?? "default" }),
      uid: `00000000-0000-4000-8000-${suffix(name)}00000`.slice(0, 36),
      resourceVersion: "1",
    },
    status: {},
  };
}

/** Results of provider functions (invokes), reset for every test by `resetInvokes`. */
const defaultInvokes = (region: string): Record<string, (args: any) => Record<string, any>> => ({
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: ["a", "b", "c", "d", "e", "f"].map((s) => `${region}${s}`),
    zoneIds: ["1", "2", "3", "4", "5", "6"].map((s) => `usw2-az${s}`),
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
    userId: "AIDAEXAMPLE",
  }),
  "aws:index/getRegion:getRegion": () => ({ name: region, region, id: region }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:ssm/getParameter:getParameter": (args) => ({ name: args.name, value: "ami-0123456789abcdef0", type: "String" }),
  // The S3 prefix list's shape; the ranges are examples in AWS's published S3 space, not a live read.
  "aws:ec2/getManagedPrefixList:getManagedPrefixList": (args) => ({
    id: "pl-68a54001",
    name: args.name,
    addressFamily: "IPv4",
    entries: ["52.218.128.0/17", "3.5.80.0/21", "52.92.128.0/17", "18.34.244.0/22", "3.5.76.0/22", "18.34.48.0/20"].map(
      (cidr) => ({ cidr, description: "" }),
    ),
  }),
  "aws:iam/getPolicyDocument:getPolicyDocument": (args) => ({
    json: JSON.stringify({ Version: "2012-10-17", Statement: args.statements ?? [] }),
  }),
});

/** The slice of pulumi's MockMonitor request the recorder reads. */
interface RegisterRequest {
  getParent(): string;
  getDependenciesList?(): string[];
}

type MonitorMethod = (req: RegisterRequest, callback: (...a: unknown[]) => void) => unknown;

export class KilnMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  private invokes: Record<string, (args: any) => Record<string, any>>;
  /** The registration request being served right now (MockMonitor calls newResource synchronously). */
  private pending?: RegisterRequest;
  private attached = false;

  constructor(private readonly region = "us-west-2") {
    this.invokes = defaultInvokes(region);
  }

  /**
   * `setMocks` plus the request recorder from the very first resource on. (Plain `setMocks` works
   * too: the recorder then attaches at the first registration, which is always top-level.)
   */
  static async install(mocks: KilnMocks, project: string, stack: string, preview = true): Promise<KilnMocks> {
    await pulumi.runtime.setMocks(mocks, project, stack, preview);
    mocks.attach();
    return mocks;
  }

  /** Override one invoke's result for the current test. */
  setInvoke(token: string, fn: (args: any) => Record<string, any>): void {
    this.invokes[token] = fn;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
    this.attach();
    const req = this.pending;
    this.pending = undefined;
    // MockMonitor passes the import id ("" when not importing), so ids stay unknown in previews,
    // as they are in a real preview of new resources; plans show them as "<computed>".
    const id = args.id ?? `${args.name}-id`;
    const state = { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs, this.region) };
    const parent = req?.getParent() || undefined;
    this.resources.push({
      type: args.type,
      name: args.name,
      urn: urnOf(parent, args.type, args.name),
      id,
      inputs: args.inputs,
      provider: args.provider,
      parent,
      dependencies: [...new Set(req?.getDependenciesList?.() ?? [])],
      custom: args.custom !== false,
    });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    const fn = this.invokes[args.token];
    if (!fn) throw new Error(`no mock result for invoke ${args.token}: add it to scripts/plan/engine/mocks.ts`);
    return fn(args.inputs);
  }

  /** Wraps the MockMonitor's registration calls so newResource can read parent and dependencies. */
  private attach(): void {
    if (this.attached) return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings") as {
      getMonitor(): Record<string, unknown> | undefined;
    };
    const monitor = settings.getMonitor() as
      | { mocks?: unknown; registerResource?: MonitorMethod; readResource?: MonitorMethod }
      | undefined;
    if (!monitor || monitor.mocks !== this) return;
    this.attached = true;
    for (const method of ["registerResource", "readResource"] as const) {
      const original = monitor[method];
      if (!original) continue;
      monitor[method] = (req, callback) => {
        this.pending = req;
        return original.call(monitor, req, callback);
      };
    }
  }
}

/** The URN the engine gives a resource: the parent's type chain is prefixed to the type. */
export function urnOf(parent: string | undefined, type: string, name: string): string {
  let qualified = type;
  if (parent) {
    const parentType = parent.split("::")[2].split("$").pop();
    qualified = `${parentType}$${type}`;
  }
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/**
 * A plain-JSON copy of recorded inputs for plans and policy: secrets become "[secret]", values only
 * known after deployment become "<computed>", assets and resource references become strings.
 */
export function redact(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (pulumi.Output.isInstance(value)) return COMPUTED;
  if (isUnknownValue(value)) return COMPUTED;
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return REDACTED;
    if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return "[asset]";
    if (pulumi.Resource.isInstance(value)) return "[resource]";
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj).sort()) {
      const v = redact(obj[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  return value;
}

function isUnknownValue(value: unknown): boolean {
  // pulumi's `unknown` sentinel (an instance of its internal Unknown class) or the wire UUID.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const out = require("@pulumi/pulumi/output") as { isUnknown(v: unknown): boolean };
  return out.isUnknown(value) || value === "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
}

/** Thrown when a value is only known after deployment (a preview cannot resolve it). */
export class UnknownInPreviewError extends Error {}

/**
 * An Output's value, or an UnknownInPreviewError naming `what` when the value is unknown until
 * deployment (waiting on `apply` for such a value would never return).
 */
export async function resolvedValue<T>(output: pulumi.Input<T> | undefined, what = "value"): Promise<T> {
  const o = pulumi.output(output as pulumi.Input<T>) as unknown as {
    isKnown: Promise<boolean>;
    promise(withUnknowns?: boolean): Promise<T>;
  };
  if (!(await o.isKnown))
    throw new UnknownInPreviewError(`${what} is unknown until deployment (a preview cannot resolve it)`);
  return o.promise();
}

/** Turns an Output into a Promise (tests await values instead of asserting inside apply); rejects for unknowns. */
export function promiseOf<T>(output: pulumi.Input<T> | undefined): Promise<T> {
  return resolvedValue(output);
}

/**
 * Resolves once the program has finished registering: the Pulumi runtime's own signal, its RPC queue
 * draining (every registration, invoke and the stack's outputs hold an entry in it until done). A
 * registration made from an apply after the queue drained starts a new round.
 */
export async function programFinished(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { rpcDone: Promise<unknown> } } };
  for (;;) {
    const queue = state.getStore().settings.rpcDone;
    await settings.waitForRPCs();
    // Let the callbacks of the last responses run (applies, outputs); any RPC they start extends the queue.
    await new Promise((r) => setImmediate(r));
    // Done when a whole round saw no new RPC.
    if (state.getStore().settings.rpcDone === queue) return;
  }
}
