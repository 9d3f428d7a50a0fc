/**
 * VPC over N availability zones: public subnets (NAT, load balancers) and private subnets (nodes,
 * pods), NAT single or per AZ, an S3 gateway endpoint and ECR interface endpoints.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SubnetLayout } from "../../contract/cidr";
import type { Tags } from "./tags";

export interface NetworkArgs {
  /** VPC CIDR, e.g. 10.0.0.0/16 (no default: comes from kiln:vpcCidr). */
  readonly vpcCidr: string;
  /** Subnet CIDRs, one private and one public per AZ, from `layoutSubnets` (no default). */
  readonly subnets: SubnetLayout;
  /** EKS cluster name, written to the karpenter.sh/discovery tag of private subnets (no default). */
  readonly clusterName: string;
  /** `single`: one NAT gateway for all AZs; `perAz`: one per AZ. Default single. */
  readonly natGateways?: "single" | "perAz";
  /** Region of the interface endpoints' service names (no default). */
  readonly region: pulumi.Input<string>;
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

/** Ids of the per-AZ children, in AZ order (the AZ names come from the region, so they live in an apply). */
interface ZoneResources {
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateRouteTableIds: pulumi.Output<string>[];
  readonly natGatewayIds: pulumi.Output<string>[];
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: string;
  /** Availability zones in subnet order. */
  readonly availabilityZones: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly natGatewayIds: pulumi.Output<string[]>;
  /** Security group of the interface endpoints (443 from the VPC only). */
  readonly endpointSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const azCount = args.subnets.private.length;
    if (azCount < 2 || args.subnets.public.length !== azCount)
      throw new Error(
        `Network ${name}: subnets must hold the same number (>= 2) of private and public CIDRs, got ${azCount} private and ${args.subnets.public.length} public: fix kiln:azCount / kiln:vpcCidr`,
      );
    const natMode = args.natGateways ?? "single";
    if (natMode !== "single" && natMode !== "perAz")
      throw new Error(`Network ${name}: kiln:natGateways is '${natMode}'; use single or perAz`);
    super("kiln:aws:Network", name, {}, opts);
    const parent = { parent: this };
    const tag = (role: string, extra: Tags = {}) => ({ ...args.tags, Name: `${name}-${role}`, ...extra });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tag("vpc") },
      parent,
    );
    // The default security group of a new VPC allows all traffic between its members: empty it.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: tag("default-sg") }, parent);
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tag("igw") }, parent);
    const publicRt = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags: tag("public") }, parent);
    new aws.ec2.Route(
      `${name}-public-default`,
      { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      parent,
    );

    // Per-AZ children are named by their AZ, never by list position, so adding a zone never
    // replaces another zone's subnets. No `state` filter: an impaired AZ must not shift the list.
    const zoneNames = aws
      .getAvailabilityZonesOutput({ filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }, parent)
      .names.apply((names) => {
        if (names.length < azCount)
          throw new Error(
            `Network ${name}: kiln:azCount is ${azCount} but the region has only ${names.length} AZs (${names.join(", ")}): lower kiln:azCount`,
          );
        return [...names].sort().slice(0, azCount);
      });

    const zones: pulumi.Output<ZoneResources> = zoneNames.apply((names) => {
      const out: ZoneResources = {
        privateSubnetIds: [],
        publicSubnetIds: [],
        privateRouteTableIds: [],
        natGatewayIds: [],
      };
      const nats: aws.ec2.NatGateway[] = [];
      names.forEach((az, i) => {
        const pub = new aws.ec2.Subnet(
          `${name}-public-${az}`,
          {
            vpcId: vpc.id,
            availabilityZone: az,
            cidrBlock: args.subnets.public[i],
            mapPublicIpOnLaunch: false,
            tags: tag(`public-${az}`, { "kubernetes.io/role/elb": "1" }),
          },
          parent,
        );
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${az}`,
          { subnetId: pub.id, routeTableId: publicRt.id },
          parent,
        );
        out.publicSubnetIds.push(pub.id);
        if (natMode === "perAz" || i === 0) {
          const eip = new aws.ec2.Eip(`${name}-nat-${az}`, { domain: "vpc", tags: tag(`nat-${az}`) }, parent);
          nats.push(
            new aws.ec2.NatGateway(
              `${name}-nat-${az}`,
              { subnetId: pub.id, allocationId: eip.id, tags: tag(`nat-${az}`) },
              { parent: this, dependsOn: [igw] },
            ),
          );
        }
      });
      names.forEach((az, i) => {
        const priv = new aws.ec2.Subnet(
          `${name}-private-${az}`,
          {
            vpcId: vpc.id,
            availabilityZone: az,
            cidrBlock: args.subnets.private[i],
            tags: tag(`private-${az}`, {
              "kubernetes.io/role/internal-elb": "1",
              "karpenter.sh/discovery": args.clusterName,
            }),
          },
          parent,
        );
        const rt = new aws.ec2.RouteTable(
          `${name}-private-${az}`,
          { vpcId: vpc.id, tags: tag(`private-${az}`) },
          parent,
        );
        const nat = natMode === "perAz" ? nats[i] : nats[0];
        new aws.ec2.Route(
          `${name}-private-${az}-default`,
          { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
          parent,
        );
        new aws.ec2.RouteTableAssociation(`${name}-private-${az}`, { subnetId: priv.id, routeTableId: rt.id }, parent);
        out.privateSubnetIds.push(priv.id);
        out.privateRouteTableIds.push(rt.id);
      });
      out.natGatewayIds.push(...nats.map((n) => n.id));
      return out;
    });

    const privateSubnetIds = zones.apply((z) => pulumi.all(z.privateSubnetIds));
    const privateRouteTableIds = zones.apply((z) => pulumi.all(z.privateRouteTableIds));

    // S3 traffic stays on the AWS network and costs no NAT processing.
    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: pulumi.interpolate`com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: privateRouteTableIds,
        tags: tag("s3"),
      },
      parent,
    );

    const endpointSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: "Interface VPC endpoints: HTTPS from inside the VPC only",
        ingress: [
          {
            protocol: "tcp",
            fromPort: 443,
            toPort: 443,
            cidrBlocks: [args.vpcCidr],
            description: "HTTPS from the VPC",
          },
        ],
        tags: tag("endpoints"),
      },
      parent,
    );
    for (const svc of ["ecr.api", "ecr.dkr"]) {
      new aws.ec2.VpcEndpoint(
        `${name}-${svc.replace(".", "-")}`,
        {
          vpcId: vpc.id,
          serviceName: pulumi.interpolate`com.amazonaws.${args.region}.${svc}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: privateSubnetIds,
          securityGroupIds: [endpointSg.id],
          tags: tag(svc.replace(".", "-")),
        },
        parent,
      );
    }

    this.vpcId = vpc.id;
    this.vpcCidr = args.vpcCidr;
    this.availabilityZones = zoneNames;
    this.privateSubnetIds = privateSubnetIds;
    this.publicSubnetIds = zones.apply((z) => pulumi.all(z.publicSubnetIds));
    this.natGatewayIds = zones.apply((z) => pulumi.all(z.natGatewayIds));
    this.endpointSecurityGroupId = endpointSg.id;
    this.registerOutputs({
      vpcId: this.vpcId,
      vpcCidr: this.vpcCidr,
      availabilityZones: this.availabilityZones,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
      natGatewayIds: this.natGatewayIds,
      endpointSecurityGroupId: this.endpointSecurityGroupId,
    });
  }
}
