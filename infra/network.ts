import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConfig } from "./config";

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

  constructor(name: string, config: NetworkConfig, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:network:Network", name, {}, opts);
    switch (config.mode) {
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
            cidrBlock: config.cidrBlock,
            numberOfAvailabilityZones: config.availabilityZones,
            natGateways: { strategy: config.natGateways },
            subnetStrategy: "Auto",
            subnetSpecs: [{ type: "Private" }, { type: "Public" }],
            tags: { Name: `${name}-vpc` },
          },
          { parent: this },
        );
        this.vpcId = this.vpc.vpcId;
        this.subnetIds = this.vpc.privateSubnetIds;
        this.publicSubnets = false;
        break;
      }
      case "existing": {
        this.vpcId = pulumi.output(config.vpcId);
        this.subnetIds = pulumi.output(config.subnetIds);
        this.publicSubnets = false;
        break;
      }
    }
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }
}
