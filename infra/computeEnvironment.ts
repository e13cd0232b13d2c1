import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CRAllocationStrategy, CRType } from "@aws-sdk/client-batch";
import { roleNaming } from "../stack/naming";
import { assumeRolePolicy } from "./iam";
import { argsFailer } from "../stack/argsError";
import { minVcpusProblem, ON_DEMAND_ALLOCATION_STRATEGIES, SPOT_ALLOCATION_STRATEGIES } from "../stack/batchRules";

/** The managed compute resource types this component builds. */
export type ComputeKind = typeof CRType.SPOT | typeof CRType.EC2 | typeof CRType.FARGATE | typeof CRType.FARGATE_SPOT;

export const isFargate = (kind: ComputeKind): boolean => kind === CRType.FARGATE || kind === CRType.FARGATE_SPOT;

export interface ComputeEnvironmentArgs {
  /** SPOT, EC2 (on-demand), FARGATE or FARGATE_SPOT. */
  readonly kind: ComputeKind;
  /** The VPC of the environment's security group. */
  readonly vpcId: pulumi.Input<string>;
  /** Where instances or tasks are placed. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** @default 0 (EC2 only: Fargate has no minimum) */
  readonly minVcpus?: number;
  /** The most vCPUs the environment runs at once (a whole number, at least 1). */
  readonly maxVcpus: number;
  /** EC2 only. @default ["optimal"] */
  readonly instanceTypes?: readonly string[];
  /** EC2 only. @default SPOT_PRICE_CAPACITY_OPTIMIZED for SPOT, BEST_FIT_PROGRESSIVE for EC2 */
  readonly allocationStrategy?: CRAllocationStrategy;
  /** SPOT only: maximum price as a percentage of On-Demand. @default 100 */
  readonly bidPercentage?: number;
  /** Root volume size of EC2 instances. @default 30 */
  readonly rootVolumeGiB?: number;
  /**
   * Minutes Batch lets running jobs finish during an infrastructure update before terminating them.
   * @default 30
   */
  readonly updateTimeoutMinutes?: number;
  /** Tags on every resource the component creates. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Tags only its EC2 resources (security group, launch template) carry, from their creation: the stack tag
   * the deploy role scopes EC2 changes by (deploy/policies.ts). @default {}
   */
  readonly ec2Tags?: Readonly<Record<string, string>>;
}

/** Thrown before any resource is created when the arguments break a Batch rule. */
export class ComputeEnvironmentArgsError extends Error {
  override readonly name = "ComputeEnvironmentArgsError";
}

/** Fills defaults and checks Batch's rules. Pure, so it is table-tested without mocks. */
export function resolveComputeEnvironmentArgs(name: string, args: ComputeEnvironmentArgs): Required<
  Omit<ComputeEnvironmentArgs, "tags" | "ec2Tags" | "vpcId" | "subnetIds">
> & Pick<ComputeEnvironmentArgs, "tags" | "ec2Tags" | "vpcId" | "subnetIds"> {
  const fargate = isFargate(args.kind);
  const resolved = {
    minVcpus: 0,
    instanceTypes: ["optimal"],
    allocationStrategy:
      args.kind === CRType.SPOT ? CRAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED : CRAllocationStrategy.BEST_FIT_PROGRESSIVE,
    bidPercentage: 100,
    rootVolumeGiB: 30,
    updateTimeoutMinutes: 30,
    ...args,
  };
  const fail = argsFailer(ComputeEnvironmentArgsError, "ComputeEnvironment", name);
  if (!Number.isInteger(resolved.maxVcpus) || resolved.maxVcpus < 1) {
    fail("maxVcpus", resolved.maxVcpus, "maxVcpus must be a whole number of at least 1");
  }
  if (!Number.isInteger(resolved.minVcpus) || resolved.minVcpus < 0) {
    fail("minVcpus", resolved.minVcpus, "minVcpus must be a whole number of at least 0");
  }
  const range = minVcpusProblem(resolved.minVcpus, resolved.maxVcpus);
  if (range) fail(range.field, resolved.minVcpus, `${range.rule} (${resolved.maxVcpus})`);
  if (fargate) {
    // Fargate rejects the EC2-only fields outright; catching them here beats a failed deploy.
    if (args.minVcpus !== undefined && args.minVcpus !== 0) fail("minVcpus", args.minVcpus, "Fargate environments have no minimum");
    if (args.instanceTypes !== undefined) fail("instanceTypes", args.instanceTypes, "Fargate environments take no instance types");
    if (args.allocationStrategy !== undefined) fail("allocationStrategy", args.allocationStrategy, "Fargate environments take no allocation strategy");
    if (args.bidPercentage !== undefined) fail("bidPercentage", args.bidPercentage, "only SPOT environments take a bid percentage");
  } else {
    const allowed: readonly CRAllocationStrategy[] = args.kind === CRType.SPOT ? SPOT_ALLOCATION_STRATEGIES : ON_DEMAND_ALLOCATION_STRATEGIES;
    if (!allowed.includes(resolved.allocationStrategy)) {
      fail("allocationStrategy", resolved.allocationStrategy, `${args.kind} environments allow ${allowed.join(", ")}`);
    }
    if (args.kind !== CRType.SPOT && args.bidPercentage !== undefined) {
      fail("bidPercentage", args.bidPercentage, "only SPOT environments take a bid percentage");
    }
    if (!Number.isInteger(resolved.bidPercentage) || resolved.bidPercentage < 1 || resolved.bidPercentage > 100) {
      fail("bidPercentage", resolved.bidPercentage, "bidPercentage must be a whole number from 1 to 100");
    }
    if (resolved.instanceTypes.length === 0) fail("instanceTypes", resolved.instanceTypes, "give at least one instance type, e.g. `optimal`");
    if (resolved.rootVolumeGiB < 30) fail("rootVolumeGiB", resolved.rootVolumeGiB, "the ECS-optimized AMI needs at least 30 GiB");
  }
  return resolved;
}

/**
 * What the launch template tags at launch: instances always (they get a `Name`), their volumes only when
 * the stack has tags, because EC2 refuses a TagSpecification with an empty tag set ("The tags cannot be
 * null or empty": EC2 CreateLaunchTemplate, LaunchTemplateTagSpecificationRequest), and the stack's
 * tags are `{}` by default.
 */
export function launchTemplateTagSpecifications(
  name: string,
  tags: Readonly<Record<string, string>>,
): { resourceType: "instance" | "volume"; tags: Record<string, string> }[] {
  // Tag-on-create is reported to refuse empty values too ("Tag on create values cannot be empty",
  // hashicorp/terraform-provider-aws#11164), which the stack's tags allow: those stay on the template only.
  const valued = Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== ""));
  const specifications: { resourceType: "instance" | "volume"; tags: Record<string, string> }[] = [
    { resourceType: "instance", tags: { ...valued, Name: `${name}-batch` } },
  ];
  if (Object.keys(valued).length > 0) specifications.push({ resourceType: "volume", tags: valued });
  return specifications;
}

/**
 * A managed AWS Batch compute environment with everything it needs: for EC2 and Spot an instance role
 * and profile, a launch template that requires IMDSv2 and encrypts EBS; for every kind a security group
 * with no ingress. The environment is never given a fixed name, so a replacement is created before the
 * old one is deleted and the queue is repointed in between.
 */
export class ComputeEnvironment extends pulumi.ComponentResource {
  readonly environment: aws.batch.ComputeEnvironment;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly kind: ComputeKind;
  readonly arn: pulumi.Output<string>;
  /** The EC2 instance role (undefined for Fargate). */
  readonly instanceRole?: aws.iam.Role;
  readonly launchTemplate?: aws.ec2.LaunchTemplate;

  constructor(name: string, args: ComputeEnvironmentArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:batch:ComputeEnvironment", name, {}, opts);
    const a = resolveComputeEnvironmentArgs(name, args);
    this.kind = a.kind;
    const tags = a.tags ?? {};

    // Batch instances only call out (ECS agent, ECR, S3, CloudWatch): nothing may call in.
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        description: `Batch compute environment ${name}: egress only`,
        vpcId: a.vpcId,
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
        tags: { ...tags, ...a.ec2Tags, Name: `${name}-sg` },
      },
      { parent: this },
    );

    // The provider's ManagedPolicy enum hard-codes the `aws` partition; GovCloud and China need theirs.
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const managedPolicyArn = (path: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${path}`;

    let computeResources: aws.types.input.batch.ComputeEnvironmentComputeResources;
    const dependsOn: pulumi.Resource[] = [];
    if (isFargate(a.kind)) {
      computeResources = {
        type: a.kind,
        maxVcpus: a.maxVcpus,
        subnets: a.subnetIds,
        securityGroupIds: [this.securityGroup.id],
      };
    } else {
      this.instanceRole = new aws.iam.Role(
        `${name}-instance-role`,
        {
          ...roleNaming(`${name}-instance-role`),
          description: `EC2 instances of Batch compute environment ${name}`,
          assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com", { parent: this }),
          tags,
        },
        { parent: this },
      );
      // The ECS agent's own permissions (register the instance, pull from ECR, write awslogs);
      // an AWS-managed service-role policy scoped to what the agent does.
      const ecsAttachment = new aws.iam.RolePolicyAttachment(
        `${name}-instance-ecs`,
        { role: this.instanceRole.name, policyArn: managedPolicyArn("service-role/AmazonEC2ContainerServiceforEC2Role") },
        { parent: this },
      );
      dependsOn.push(ecsAttachment);
      const profile = new aws.iam.InstanceProfile(
        `${name}-instance-profile`,
        { role: this.instanceRole.name, tags },
        { parent: this },
      );
      this.launchTemplate = new aws.ec2.LaunchTemplate(
        `${name}-lt`,
        {
          description: `Batch compute environment ${name}: IMDSv2 only, encrypted EBS`,
          metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            // 1 hop: the ECS agent (host network) reaches IMDS, containers on the bridge network do not,
            // so a job gets only its own job role's credentials, never the instance role's.
            httpPutResponseHopLimit: 1,
          },
          blockDeviceMappings: [
            {
              deviceName: "/dev/xvda",
              ebs: { encrypted: "true", volumeType: "gp3", volumeSize: a.rootVolumeGiB, deleteOnTermination: "true" },
            },
          ],
          tagSpecifications: launchTemplateTagSpecifications(name, tags),
          tags: { ...tags, ...a.ec2Tags },
        },
        { parent: this },
      );
      computeResources = {
        type: a.kind,
        minVcpus: a.minVcpus,
        maxVcpus: a.maxVcpus,
        instanceTypes: [...a.instanceTypes],
        allocationStrategy: a.allocationStrategy,
        bidPercentage: a.kind === CRType.SPOT ? a.bidPercentage : undefined,
        instanceRole: profile.arn,
        subnets: a.subnetIds,
        securityGroupIds: [this.securityGroup.id],
        launchTemplate: { launchTemplateId: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
        // Ec2Configuration.imageType: ECS_AL2023 is the default "for all non-GPU instance families",
        // ECS_AL2023_NVIDIA "for all GPU instance families" (with the NVIDIA driver a GPU job needs).
        ec2Configurations: [{ imageType: "ECS_AL2023" }, { imageType: "ECS_AL2023_NVIDIA" }],
        tags,
      };
      if (a.kind === CRType.SPOT && a.allocationStrategy === CRAllocationStrategy.BEST_FIT) {
        // Only BEST_FIT Spot goes through the legacy Spot Fleet API, which needs its own role.
        const fleetRole = new aws.iam.Role(
          `${name}-spot-fleet-role`,
          { ...roleNaming(`${name}-spot-fleet-role`), assumeRolePolicy: assumeRolePolicy("spotfleet.amazonaws.com", { parent: this }), tags },
          { parent: this },
        );
        const fleetAttachment = new aws.iam.RolePolicyAttachment(
          `${name}-spot-fleet`,
          { role: fleetRole.name, policyArn: managedPolicyArn("service-role/AmazonEC2SpotFleetTaggingRole") },
          { parent: this },
        );
        dependsOn.push(fleetAttachment);
        computeResources.spotIamFleetRole = fleetRole.arn;
      }
    }

    // Infrastructure updates (new AMI, launch template) of EC2 environments only apply in place with
    // these strategies; Fargate has no instances to update.
    const updatable =
      !isFargate(a.kind) &&
      (a.allocationStrategy === CRAllocationStrategy.BEST_FIT_PROGRESSIVE ||
      a.allocationStrategy === CRAllocationStrategy.SPOT_CAPACITY_OPTIMIZED ||
      a.allocationStrategy === CRAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED);

    this.environment = new aws.batch.ComputeEnvironment(
      `${name}-ce`,
      {
        // No `name`: Pulumi autonames, so a replacement is created before the old one is deleted.
        // No `serviceRole`: Batch uses its service-linked role.
        type: "MANAGED",
        state: "ENABLED",
        computeResources,
        updatePolicy: updatable
          ? { terminateJobsOnUpdate: false, jobExecutionTimeoutMinutes: a.updateTimeoutMinutes }
          : undefined,
        tags,
      },
      // Without these edges Pulumi may delete the role before the environment, which then hangs in DELETING.
      { parent: this, dependsOn },
    );
    this.arn = this.environment.arn;
    this.registerOutputs({ arn: this.arn, kind: this.kind });
  }
}
