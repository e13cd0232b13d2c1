import * as pulumi from "@pulumi/pulumi";
import { CRType, PlatformCapability } from "@aws-sdk/client-batch";
import { ComputeEnvironment } from "./computeEnvironment";
import { FARGATE_QUEUE, type PipelineConfig } from "./config";
import { JobQueue } from "./jobQueue";
import { Network } from "./network";

export type PlatformConfig = Pick<
  PipelineConfig,
  "network" | "compute" | "queues" | "runnableTimeoutSeconds" | "tags"
>;

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
  /** Queues by config name (`high`, `low`, … and `fargate` when enabled). */
  readonly queues: Record<string, JobQueue> = {};

  constructor(name: string, config: PlatformConfig, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:batch:Platform", name, {}, opts);
    const tags = config.tags;
    this.network = new Network(`${name}-net`, config.network, { parent: this });
    const placement = { vpcId: this.network.vpcId, subnetIds: this.network.subnetIds, tags };
    const { spot, onDemand, fargate } = config.compute;

    this.spot = new ComputeEnvironment(`${name}-spot`, { kind: CRType.SPOT, ...spot, ...placement }, { parent: this });
    this.onDemand = new ComputeEnvironment(
      `${name}-ondemand`,
      { kind: CRType.EC2, ...onDemand, ...placement },
      { parent: this },
    );

    const runnableTimeoutSeconds = config.runnableTimeoutSeconds === 0 ? undefined : config.runnableTimeoutSeconds;
    for (const [queueName, queue] of Object.entries(config.queues)) {
      this.queues[queueName] = new JobQueue(
        `${name}-${queueName}`,
        {
          priority: queue.priority,
          // Spot first: cheapest capacity; On-Demand takes only what Spot cannot place.
          computeEnvironments: [this.spot, this.onDemand],
          runnableTimeoutSeconds,
          tags,
        },
        { parent: this },
      );
    }

    if (fargate.enabled) {
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
      this.queues[FARGATE_QUEUE] = new JobQueue(
        `${name}-${FARGATE_QUEUE}`,
        { priority: fargate.priority, computeEnvironments: this.fargate, runnableTimeoutSeconds, tags },
        { parent: this },
      );
    }

    this.registerOutputs({ queueArns: this.queueArns });
  }

  /** Queue ARNs by config name. */
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
