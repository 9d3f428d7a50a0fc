/**
 * The one Pulumi mock engine every infra test (and the offline plan) uses. Resources get realistic
 * ids, ARNs and computed outputs so the program evaluates as it would in a preview.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly id: string;
  readonly inputs: Record<string, any>;
  readonly provider?: string;
}

const ACCOUNT = "123456789012";

/** Computed outputs a real provider would fill in, keyed by type token. */
function computedOutputs(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, any> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return { bucket: inputs.bucket ?? name, arn: `arn:aws:s3:::${inputs.bucket ?? name}`, bucketRegionalDomainName: `${name}.s3.${region}.amazonaws.com` };
    case "aws:kms/key:Key":
      return { arn: arn("kms", `key/${name}-id`), keyId: `${name}-id` };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${inputs.name ?? name}`, name: inputs.name ?? name, uniqueId: `AROA${name.toUpperCase().slice(0, 12)}` };
    case "aws:iam/policy:Policy":
      return { arn: `arn:aws:iam::${ACCOUNT}:policy/${inputs.name ?? name}` };
    case "aws:ec2/vpc:Vpc":
      return { arn: arn("ec2", `vpc/vpc-${name}`), defaultSecurityGroupId: `sg-default-${name}` };
    case "aws:ec2/subnet:Subnet":
      return { arn: arn("ec2", `subnet/subnet-${name}`) };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { arn: arn("ec2", `security-group/sg-${name}`) };
    case "aws:eks/cluster:Cluster":
      return {
        arn: arn("eks", `cluster/${inputs.name ?? name}`),
        name: inputs.name ?? name,
        endpoint: `https://${name}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: { data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE` }] }],
        vpcConfig: { ...(inputs.vpcConfig ?? {}), clusterSecurityGroupId: `sg-cluster-${name}` },
      };
    case "aws:ecr/repository:Repository":
      return { arn: arn("ecr", `repository/${inputs.name ?? name}`), repositoryUrl: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${inputs.name ?? name}` };
    case "aws:sqs/queue:Queue":
      return { arn: arn("sqs", inputs.name ?? name), url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${inputs.name ?? name}`, name: inputs.name ?? name };
    case "aws:cloudwatch/eventRule:EventRule":
      return { arn: arn("events", `rule/${inputs.name ?? name}`) };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { arn: arn("ec2", `launch-template/lt-${name}`), latestVersion: 1 };
    case "aws:eks/nodeGroup:NodeGroup":
      return { arn: arn("eks", `nodegroup/${name}`), status: "ACTIVE" };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${name}` };
    case "aws:fsx/lustreFileSystem:LustreFileSystem":
      return { arn: arn("fsx", `file-system/fs-${name}`), dnsName: `fs-${name}.fsx.${region}.amazonaws.com`, mountName: "abcdefgh" };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${name}` };
    default:
      return type.startsWith("aws:") ? { arn: arn(type.split(":")[1].split("/")[0], name) } : {};
  }
}

/** Results of provider functions (invokes), reset for every test by `resetInvokes`. */
const defaultInvokes = (region: string): Record<string, (args: any) => Record<string, any>> => ({
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: ["a", "b", "c", "d", "e", "f"].map((s) => `${region}${s}`),
    zoneIds: ["1", "2", "3", "4", "5", "6"].map((s) => `usw2-az${s}`),
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: "AIDAEXAMPLE" }),
  "aws:index/getRegion:getRegion": () => ({ name: region, region, id: region }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:ssm/getParameter:getParameter": (args) => ({ name: args.name, value: "ami-0123456789abcdef0", type: "String" }),
  "aws:iam/getPolicyDocument:getPolicyDocument": (args) => ({ json: JSON.stringify({ Version: "2012-10-17", Statement: args.statements ?? [] }) }),
});

export class KilnMocks implements pulumi.runtime.Mocks {
  readonly resources: RecordedResource[] = [];
  private invokes: Record<string, (args: any) => Record<string, any>>;

  constructor(private readonly region = "us-west-2") {
    this.invokes = defaultInvokes(region);
  }

  /** Override one invoke's result for the current test. */
  setInvoke(token: string, fn: (args: any) => Record<string, any>): void {
    this.invokes[token] = fn;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
    const id = args.id ?? `${args.name}-id`;
    const state = { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs, this.region) };
    this.resources.push({ type: args.type, name: args.name, urn: `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${args.type}::${args.name}`, id, inputs: args.inputs, provider: args.provider });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    const fn = this.invokes[args.token];
    if (!fn) throw new Error(`no mock result for invoke ${args.token}: add it to test/mocks.ts`);
    return fn(args.inputs);
  }
}

/** Turns an Output into a Promise (tests await values instead of asserting inside apply). */
export function promiseOf<T>(output: pulumi.Input<T> | undefined): Promise<T> {
  return new Promise((resolve) => pulumi.output(output as pulumi.Input<T>).apply((v) => resolve(v as T)));
}
