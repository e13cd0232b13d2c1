import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PlatformCapability } from "@aws-sdk/client-batch";
import { BARRIER_JOB_DEFINITION_KEY, TAG_KEYS, triggerMode } from "../contract";
import { FARGATE_QUEUE, isArm64InstanceType, type PipelineConfig, type ProcessJobConfig } from "../stack/config";
import { efsClientStatements } from "./containerProperties";
import { buildFolder, buildImage, sourceHash } from "./image";
import { dockerfileOf } from "../stack/buildFolder";
import { barrierJob, containerArgs, jobPolicyStatements, processEnvironment, triggerKeyFilter } from "../stack/model";
import { roleNaming } from "../stack/naming";
import { assumeRolePolicy, boundedRoles, type PolicyStatement, policyJson } from "./iam";
import { ContainerJobDefinition, jobDefinitionNamesOf, type Platform } from "./jobDefinition";
import { InputBucket } from "./inputBucket";
import { lambdaExcludedPackages, powertoolsLayerParameter, powertoolsVersion } from "../stack/lambdaPackages";
import { Observability } from "./observability";
import { OperatorPolicy } from "./operator";
import { Orchestrator } from "./orchestrator";
import { type BatchPlatformArgs, BatchPlatform } from "./platform";
import { Trigger } from "./trigger";

/**
 * What process jobs may do with the data: read object versions under the trigger prefix, write (and
 * read back) under the output prefix, list just those two prefixes.
 */
export function processJobStatements(
  bucketArn: pulumi.Input<string>,
  triggerPrefix: string,
  outputPrefix: string,
): pulumi.Output<PolicyStatement[]> {
  return pulumi.output(bucketArn).apply((bucket): PolicyStatement[] => [
    {
      Sid: "ReadInputs",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      Resource: [`${bucket}/${triggerPrefix}*`, `${bucket}/${outputPrefix}*`],
    },
    {
      Sid: "WriteResults",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: [`${bucket}/${outputPrefix}*`],
    },
    {
      Sid: "ListOwnPrefixes",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [bucket],
      Condition: { StringLike: { "s3:prefix": [`${triggerPrefix}*`, `${outputPrefix}*`] } },
    },
  ]);
}

/**
 * The architecture a process image is built for: arm64 when the process queue's EC2 environments run
 * Graviton (config rules keep both environments on one architecture), amd64 otherwise (Fargate runs X86_64
 * unless a runtime platform says otherwise, and the pipeline sets none).
 */
export function processImagePlatform(config: PipelineConfig): "linux/amd64" | "linux/arm64" {
  if (config.processQueue === FARGATE_QUEUE) return "linux/amd64";
  return config.compute.spot.instanceTypes.every(isArm64InstanceType) ? "linux/arm64" : "linux/amd64";
}

/** In the config, 0 turns a limit off (0 days keeps objects, 0 concurrency reserves none); a component takes undefined. */
const zeroIsOff = (value: number) => (value === 0 ? undefined : value);

/** The platform's args from the config: 0 turns the RUNNABLE timeout off, Fargate is there when enabled. */
export function platformArgs(config: PipelineConfig): BatchPlatformArgs {
  const { spot, onDemand, fargate } = config.compute;
  return {
    network: config.network,
    spot,
    onDemand,
    queuePriorities: Object.fromEntries(Object.entries(config.queues).map(([name, q]) => [name, q.priority])),
    fargate: fargate.enabled ? { queueName: FARGATE_QUEUE, maxVcpus: fargate.maxVcpus, spotFirst: fargate.spotFirst, priority: fargate.priority } : undefined,
    runnableTimeoutSeconds: zeroIsOff(config.runnableTimeoutSeconds),
    tags: config.tags,
  };
}

/**
 * The whole pipeline: compute platform, queues and the process job definitions. The S3 trigger and
 * the orchestrator attach to it. The only place that maps the stack config to component args.
 */
export class Pipeline extends pulumi.ComponentResource {
  readonly platform: BatchPlatform;
  /** Process job definitions by workflow key, including the planner's `barrier`. */
  readonly jobDefinitions: Record<string, ContainerJobDefinition> = {};
  readonly orchestrator: Orchestrator;
  readonly observability: Observability;
  readonly inputBucket: InputBucket;
  /** The role each process definition's jobs run as, by key: read the trigger prefix, write the output prefix, and its `policyStatements`. */
  readonly jobRoles: Record<string, aws.iam.Role> = {};
  readonly trigger: Trigger;
  /** The managed policy to attach to whoever runs `batch-pipeline` against this stack. */
  readonly operator: OperatorPolicy;

  constructor(name: string, config: PipelineConfig, opts: pulumi.ComponentResourceOptions = {}) {
    // Every role of the stack, in every component, carries the configured permissions boundary.
    const boundary = config.permissionsBoundaryArn;
    super("batch-pipeline:index:Pipeline", name, {}, boundary ? { ...opts, transformations: [...(opts.transformations ?? []), boundedRoles(boundary)] } : opts);
    const tags = config.tags;
    // Every EC2 resource carries the stack tag from its creation: the deploy role changes only those (deploy/policies.ts).
    this.platform = new BatchPlatform(name, { ...platformArgs(config), ec2Tags: { [TAG_KEYS.stack]: name } }, { parent: this });

    this.inputBucket = new InputBucket(
      `${name}-input`,
      {
        noncurrentVersionExpirationDays: zeroIsOff(config.trigger.noncurrentVersionExpirationDays),
        expireObjectsAfterDays: zeroIsOff(config.trigger.expireObjectsAfterDays),
        tags,
      },
      { parent: this },
    );

    // Each process definition runs as its own role: read what triggered the run and write results (and
    // nothing else: in particular never under the trigger prefix, so the pipeline cannot start itself),
    // plus what its config adds (`policyStatements`) and its EFS mounts need.

    // Process definitions run where the process queue's environments are; Fargate ones also need to
    // know whether their tasks get a public IP (public subnets without NAT).
    const processPlatform = this.platform.platformOf(config.processQueue);
    const fargateNetwork = (platform: Platform) =>
      platform === PlatformCapability.FARGATE
        ? { platform, assignPublicIp: config.compute.fargate.assignPublicIp ?? this.platform.network.publicSubnets }
        : { platform };
    const account = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    for (const [key, job] of Object.entries(config.jobDefinitions)) {
      const role = new aws.iam.Role(
        `${name}-${key}-role`,
        { ...roleNaming(`${name}-${key}-role`), description: `Process jobs of ${name} (${key}): read inputs, write results`, assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com", { parent: this }), tags },
        { parent: this },
      );
      const statements = pulumi
        .all([processJobStatements(this.inputBucket.arn, config.trigger.prefix, config.trigger.outputPrefix), this.inputBucket.arn, account.accountId, region.region, partition.partition])
        .apply(([base, bucketArn, accountId, regionName, p]): PolicyStatement[] => [
          ...base,
          ...efsClientStatements(job.volumes ?? [], job.mountPoints ?? [], p, regionName, accountId),
          ...jobPolicyStatements(job.policyStatements ?? [], bucketArn, config.trigger.prefix),
        ]);
      const policy = new aws.iam.RolePolicy(`${name}-${key}-policy`, { role: role.name, policy: policyJson(statements) }, { parent: this });
      this.jobRoles[key] = role;
      this.jobDefinitions[key] = new ContainerJobDefinition(
        `${name}-${key}`,
        {
          ...containerArgs(job),
          image: job.image ?? this.buildJobImage(name, job.build!, processImagePlatform(config), tags),
          environment: processEnvironment(job, this.inputBucket.name),
          jobRoleArn: role.arn,
          ...fargateNetwork(processPlatform),
          logRetentionDays: config.logRetentionDays,
          tags,
        },
        { parent: this, dependsOn: [policy] },
      );
    }
    const barrier = barrierJob(processPlatform);
    this.jobDefinitions[BARRIER_JOB_DEFINITION_KEY] = new ContainerJobDefinition(
      `${name}-${BARRIER_JOB_DEFINITION_KEY}`,
      { ...containerArgs(barrier), image: barrier.image!, ...fargateNetwork(processPlatform), logRetentionDays: config.logRetentionDays, tags },
      { parent: this },
    );

    this.orchestrator = new Orchestrator(
      `${name}-orchestrator`,
      {
        processQueue: this.platform.queue(config.processQueue),
        ...fargateNetwork(this.platform.platformOf(config.startQueue)),
        jobDefinitions: this.jobDefinitions,
        workflow: config.workflow,
        image: config.orchestrator.image,
        vcpus: config.orchestrator.vcpus,
        memoryMiB: config.orchestrator.memoryMiB,
        wait: config.orchestrator.wait,
        outputRoot: config.trigger.outputPrefix,
        timeoutSeconds: config.orchestrator.timeoutSeconds,
        logRetentionDays: config.logRetentionDays,
        stack: name,
        tags,
      },
      { parent: this },
    );

    // Pulumi resolves the packages to upload from ./package.json of the working directory; so do we. The
    // layer is Powertools' exact pinned version, from AWS's public parameter unless configured.
    const dependencies: Record<string, string> = JSON.parse(readFileSync("package.json", "utf8")).dependencies;
    const { trigger } = config;
    // Who submits each run's DAG: start jobs (container), the trigger itself (inline), or either by the plan's size (auto).
    const mode = triggerMode(config.orchestrator.mode, config.orchestrator.wait);
    this.trigger = new Trigger(
      `${name}-trigger`,
      {
        bucket: this.inputBucket,
        startQueue: this.platform.queue(config.startQueue),
        startJobDefinition: this.orchestrator.jobDefinition,
        filter: triggerKeyFilter(trigger),
        idempotencySeconds: trigger.idempotencyDays * 24 * 3600,
        reservedConcurrency: zeroIsOff(trigger.maxConcurrency),
        delivery: trigger.delivery === "queue" ? { kind: "queue", maxConcurrency: trigger.queueMaxConcurrency } : { kind: "async" },
        powertoolsLayerArn:
          trigger.powertoolsLayerArn ??
          aws.ssm.getParameterOutput({ name: powertoolsLayerParameter(powertoolsVersion(dependencies)) }, { parent: this }).value,
        excludedPackages: lambdaExcludedPackages(dependencies),
        logRetentionDays: config.logRetentionDays,
        ...(mode !== "container"
          ? {
              orchestration: {
                mode,
                workflow: config.workflow,
                processQueue: this.platform.queue(config.processQueue),
                jobDefinitions: this.jobDefinitions,
                outputRoot: config.trigger.outputPrefix,
              },
            }
          : {}),
        stack: name,
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
        arrayChildStates: config.notifications.arrayChildStates,
        deadLetterQueue: this.trigger.deadLetterQueue,
        triggerQueue: this.trigger.queue,
        tags,
      },
      { parent: this },
    );

    // The stack's container log groups (`/aws/batch/<name>-<key>`, the start job's included) and its job-state log
    // (`/aws/events/<name>-obs/job-states`) by prefix, not one ARN each: adding a job definition leaves the policy
    // people hold unchanged (a change replaces it: infra/operator.ts).
    const logGroupsUnder = (source: string) => pulumi.interpolate`arn:${partition.partition}:logs:${region.region}:${account.accountId}:log-group:/aws/${source}/${name}-*`;
    this.operator = new OperatorPolicy(
      `${name}-operator`,
      {
        bucketArn: this.inputBucket.arn,
        triggerPrefix: trigger.prefix,
        queueArns: Object.values(this.platform.queues).map((q) => q.arn),
        logGroupArns: [logGroupsUnder("batch"), logGroupsUnder("events")],
        deadLetterQueueArn: this.trigger.deadLetterQueue.arn,
        triggerFunctionArn: this.trigger.function.arn,
        stack: name,
        tags,
      },
      { parent: this },
    );

    this.registerOutputs({});
  }

  /** Images built for definitions, by build folder and Dockerfile: definitions sharing a folder share one build. */
  private readonly builtImages = new Map<string, pulumi.Output<string>>();

  /**
   * The image of a definition with `build`: built from its folder and pushed to a repository of its own
   * (`<stack>-<folder name>-<hash of folder and Dockerfile>`), once however many definitions use it.
   */
  private buildJobImage(name: string, build: NonNullable<ProcessJobConfig["build"]>, platform: "linux/amd64" | "linux/arm64", tags: Record<string, string>): pulumi.Output<string> {
    // Pulumi runs the program from the project directory, where `build.context` is relative to.
    const { context, dockerfile } = buildFolder(process.cwd(), build);
    const id = `${build.context}\0${dockerfileOf(build)}`;
    let image = this.builtImages.get(id);
    if (!image) {
      const label = basename(context).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 20) || "image";
      const suffix = createHash("sha256").update(id).digest("hex").slice(0, 6);
      image = buildImage(`${name}-${label}-${suffix}`, { context, dockerfile, tag: sourceHash(context, ["."]), platform, tags }, this).image.imageUri;
      this.builtImages.set(id, image);
    }
    return image;
  }

  /** Job definition names by workflow key: what the orchestrator submits against. */
  get jobDefinitionNames(): pulumi.Output<Record<string, string>> {
    return jobDefinitionNamesOf(this.jobDefinitions);
  }

  /** Container log groups by job definition key, the start job's as `start`. */
  get logGroupNames(): pulumi.Output<Record<string, string>> {
    const definitions = { ...this.jobDefinitions, start: this.orchestrator.jobDefinition };
    return pulumi.all(Object.fromEntries(Object.entries(definitions).map(([k, d]) => [k, d.logGroup.name])));
  }
}
