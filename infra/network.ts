import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";

/** Where the network comes from, one of three modes. */
export type NetworkArgs =
  | {
      /** The account's default VPC and its default-for-AZ subnets (public). */
      readonly mode: "default";
    }
  | {
      /** A new VPC (awsx) with private subnets behind NAT, and public ones for the gateways. */
      readonly mode: "new";
      /** The VPC's IPv4 CIDR block, /16 to /24. */
      readonly cidrBlock: string;
      /** How many availability zones get a private and a public subnet. */
      readonly availabilityZones: number;
      /** NAT gateways: none (add VPC endpoints), one for the VPC, or one per AZ. */
      readonly natGateways: "None" | "Single" | "OnePerAz";
    }
  | {
      /** A VPC and subnets that already exist. */
      readonly mode: "existing";
      readonly vpcId: string;
      /** Where instances and tasks are placed; at least one. */
      readonly subnetIds: readonly string[];
    };

/**
 * Where Batch places instances and Fargate tasks: the account's default VPC, a new VPC with private
 * subnets (awsx), or VPC and subnet ids the user already has.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly subnetIds: pulumi.Output<string[]>;
  /** True when tasks land in public subnets (default VPC): Fargate then needs a public IP to pull images. */
  readonly publicSubnets: boolean;
  readonly vpc?: awsx.ec2.Vpc;

  /** @param ec2Tags tags every resource of a new network carries (the stack tag the deploy role scopes EC2 by) */
  constructor(name: string, args: NetworkArgs, opts: pulumi.ComponentResourceOptions = {}, ec2Tags: Readonly<Record<string, string>> = {}) {
    super("batch-pipeline:network:Network", name, {}, opts);
    switch (args.mode) {
      case "default": {
        const vpc = aws.ec2.getVpcOutput({ default: true }, { parent: this });
        this.vpcId = vpc.id;
        this.subnetIds = aws.ec2
          .getSubnetsOutput(
            { filters: [{ name: "vpc-id", values: [vpc.id] }, { name: "default-for-az", values: ["true"] }] },
            { parent: this },
          )
          .ids;
        this.publicSubnets = true;
        break;
      }
      case "new": {
        this.vpc = new awsx.ec2.Vpc(
          `${name}-vpc`,
          {
            cidrBlock: args.cidrBlock,
            numberOfAvailabilityZones: args.availabilityZones,
            natGateways: { strategy: args.natGateways },
            subnetStrategy: "Auto",
            subnetSpecs: [{ type: "Private", tags: { ...ec2Tags } }, { type: "Public", tags: { ...ec2Tags } }],
            // awsx gives these to the VPC and to what it creates in it (gateways, route tables, EIPs).
            tags: { ...ec2Tags, Name: `${name}-vpc` },
          },
          { parent: this },
        );
        this.vpcId = this.vpc.vpcId;
        this.subnetIds = this.vpc.privateSubnetIds;
        this.publicSubnets = false;
        break;
      }
      case "existing": {
        this.vpcId = pulumi.output(args.vpcId);
        this.subnetIds = pulumi.output([...args.subnetIds]);
        this.publicSubnets = false;
        break;
      }
    }
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }
}
