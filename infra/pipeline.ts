import * as pulumi from "@pulumi/pulumi";
import { BARRIER_JOB_DEFINITION_KEY, type PipelineConfig, type ProcessJobConfig } from "./config";
import { ContainerJobDefinition } from "./jobDefinition";
import { InputBucket } from "./inputBucket";
import { Observability } from "./observability";
import { Orchestrator } from "./orchestrator";
import { BatchPlatform } from "./platform";
import { Trigger } from "./trigger";

/** The no-op job the planner uses to fan in more than 20 dependencies. Tiny, and never retried. */
const BARRIER_JOB: ProcessJobConfig = {
  image: "public.ecr.aws/docker/library/busybox:1.37",
  command: ["true"],
  environment: {},
  vcpus: 1,
  memoryMiB: 128,
  timeoutSeconds: 300,
  retryAttempts: 1,
};

/**
 * The whole pipeline: compute platform, queues and the process job definitions. The S3 trigger and
 * the orchestrator attach to it.
 */
export class Pipeline extends pulumi.ComponentResource {
  readonly platform: BatchPlatform;
  /** Process job definitions by workflow key, including the planner's `barrier`. */
  readonly jobDefinitions: Record<string, ContainerJobDefinition> = {};
  readonly orchestrator: Orchestrator;
  readonly observability: Observability;
  readonly inputBucket: InputBucket;
  readonly trigger: Trigger;

  constructor(name: string, config: PipelineConfig, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:index:Pipeline", name, {}, opts);
    const tags = config.tags;
    this.platform = new BatchPlatform(name, config, { parent: this });

    const definitions: Record<string, ProcessJobConfig> = {
      ...config.jobDefinitions,
      [BARRIER_JOB_DEFINITION_KEY]: BARRIER_JOB,
    };
    for (const [key, job] of Object.entries(definitions)) {
      this.jobDefinitions[key] = new ContainerJobDefinition(
        `${name}-${key}`,
        {
          image: job.image,
          vcpus: job.vcpus,
          memoryMiB: job.memoryMiB,
          command: job.command,
          environment: job.environment,
          timeoutSeconds: job.timeoutSeconds,
          retryAttempts: job.retryAttempts,
          logRetentionDays: config.logRetentionDays,
          tags,
        },
        { parent: this },
      );
    }

    this.orchestrator = new Orchestrator(
      `${name}-orchestrator`,
      {
        processQueue: this.platform.queue(config.processQueue),
        jobDefinitions: this.jobDefinitions,
        workflow: config.workflow,
        settings: config.orchestrator,
        logRetentionDays: config.logRetentionDays,
        tags,
      },
      { parent: this },
    );

    this.inputBucket = new InputBucket(
      `${name}-input`,
      {
        noncurrentVersionExpirationDays: config.trigger.noncurrentVersionExpirationDays,
        expireObjectsAfterDays: config.trigger.expireObjectsAfterDays,
        tags,
      },
      { parent: this },
    );

    this.trigger = new Trigger(
      `${name}-trigger`,
      {
        bucket: this.inputBucket,
        startQueue: this.platform.queue(config.startQueue),
        startJobDefinition: this.orchestrator.jobDefinition,
        settings: config.trigger,
        logRetentionDays: config.logRetentionDays,
        tags,
      },
      { parent: this },
    );

    this.observability = new Observability(
      `${name}-obs`,
      {
        queueArns: Object.values(this.platform.queues).map((q) => q.arn),
        logRetentionDays: config.logRetentionDays,
        email: config.notifications.email,
        deadLetterQueue: this.trigger.deadLetterQueue,
        tags,
      },
      { parent: this },
    );

    this.registerOutputs({});
  }

  /** Job definition names by workflow key: what the orchestrator submits against. */
  get jobDefinitionNames(): pulumi.Output<Record<string, string>> {
    return pulumi.all(Object.fromEntries(Object.entries(this.jobDefinitions).map(([k, d]) => [k, d.name])));
  }

  /** Container log groups by job definition key, the start job's as `start`. */
  get logGroupNames(): pulumi.Output<Record<string, string>> {
    const definitions = { ...this.jobDefinitions, start: this.orchestrator.jobDefinition };
    return pulumi.all(Object.fromEntries(Object.entries(definitions).map(([k, d]) => [k, d.logGroup.name])));
  }
}
