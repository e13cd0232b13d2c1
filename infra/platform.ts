import * as pulumi from "@pulumi/pulumi";
import { CRType, PlatformCapability } from "@aws-sdk/client-batch";
import { ComputeEnvironment, type ComputeEnvironmentArgs } from "./computeEnvironment";
import { JobQueue } from "./jobQueue";
import { Network, type NetworkArgs } from "./network";

/** An EC2 environment of the platform: what {@link ComputeEnvironment} takes, but where it is placed. */
export type Ec2EnvironmentArgs = Omit<ComputeEnvironmentArgs, "kind" | "vpcId" | "subnetIds" | "tags">;

/** Fargate environments and the queue of their own (Batch does not let a queue mix Fargate and EC2). */
export interface FargatePlatformArgs {
  /** The Fargate queue's name in {@link BatchPlatform.queues}. */
  readonly queueName: string;
  /** vCPUs of each Fargate environment. */
  readonly maxVcpus: number;
  /** Put a FARGATE_SPOT environment before FARGATE in the queue. */
  readonly spotFirst: boolean;
  /** The Fargate queue's priority, 0 to 1000. */
  readonly priority: number;
}

export interface BatchPlatformArgs {
  /** Where instances and tasks are placed. */
  readonly network: NetworkArgs;
  /** The Spot environment, which every EC2 queue tries first. */
  readonly spot: Ec2EnvironmentArgs;
  /** The On-Demand environment, behind Spot in every EC2 queue. */
  readonly onDemand: Ec2EnvironmentArgs;
  /** The EC2 queues, by name: their priorities (0 to 1000, higher first). */
  readonly queuePriorities: Readonly<Record<string, number>>;
  /** Fargate environments and their queue. @default undefined (no Fargate) */
  readonly fargate?: FargatePlatformArgs;
  /** Cancel jobs stuck RUNNABLE this long, in every queue (600 to 86,400 s). @default undefined (never) */
  readonly runnableTimeoutSeconds?: number;
  /** Tags on every resource the component creates. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** Tags its EC2 resources (network, security groups, launch templates) also carry: the stack tag. @default {} */
  readonly ec2Tags?: Readonly<Record<string, string>>;
}

/**
 * The compute platform: the network, a Spot environment with an On-Demand fallback behind it, the
 * queues that share them, and optionally Fargate environments with a queue of their own (Batch does
 * not let a queue mix Fargate and EC2).
 */
export class BatchPlatform extends pulumi.ComponentResource {
  readonly network: Network;
  readonly spot: ComputeEnvironment;
  readonly onDemand: ComputeEnvironment;
  readonly fargate: ComputeEnvironment[] = [];
  /** Queues by name (`high`, `low`, … and the Fargate queue when there is one). */
  readonly queues: Record<string, JobQueue> = {};

  constructor(name: string, args: BatchPlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:batch:Platform", name, {}, opts);
    const tags = args.tags;
    this.network = new Network(`${name}-net`, args.network, { parent: this }, args.ec2Tags);
    const placement = { vpcId: this.network.vpcId, subnetIds: this.network.subnetIds, tags, ec2Tags: args.ec2Tags };
    const { runnableTimeoutSeconds, fargate } = args;

    this.spot = new ComputeEnvironment(`${name}-spot`, { kind: CRType.SPOT, ...args.spot, ...placement }, { parent: this });
    this.onDemand = new ComputeEnvironment(
      `${name}-ondemand`,
      { kind: CRType.EC2, ...args.onDemand, ...placement },
      { parent: this },
    );

    for (const [queueName, priority] of Object.entries(args.queuePriorities)) {
      this.queues[queueName] = new JobQueue(
        `${name}-${queueName}`,
        {
          priority,
          // Spot first: cheapest capacity; On-Demand takes only what Spot cannot place.
          computeEnvironments: [this.spot, this.onDemand],
          runnableTimeoutSeconds,
          tags,
        },
        { parent: this },
      );
    }

    if (fargate) {
      const kinds = fargate.spotFirst ? [CRType.FARGATE_SPOT, CRType.FARGATE] : [CRType.FARGATE];
      for (const kind of kinds) {
        this.fargate.push(
          new ComputeEnvironment(
            `${name}-${kind === CRType.FARGATE_SPOT ? "fargate-spot" : "fargate"}`,
            { kind, maxVcpus: fargate.maxVcpus, ...placement },
            { parent: this },
          ),
        );
      }
      this.queues[fargate.queueName] = new JobQueue(
        `${name}-${fargate.queueName}`,
        { priority: fargate.priority, computeEnvironments: this.fargate, runnableTimeoutSeconds, tags },
        { parent: this },
      );
    }

    this.registerOutputs({ queueArns: this.queueArns });
  }

  /** Queue ARNs by name. */
  get queueArns(): pulumi.Output<Record<string, string>> {
    return pulumi.all(Object.fromEntries(Object.entries(this.queues).map(([k, q]) => [k, q.arn])));
  }

  /** The platform a job definition needs to run on queue `name`: that of the queue's environments. */
  platformOf(name: string): typeof PlatformCapability.EC2 | typeof PlatformCapability.FARGATE {
    return this.queue(name).fargate ? PlatformCapability.FARGATE : PlatformCapability.EC2;
  }

  queue(name: string): JobQueue {
    const queue = this.queues[name];
    if (!queue) throw new Error(`No job queue \`${name}\` (queues: ${Object.keys(this.queues).join(", ")})`);
    return queue;
  }
}
