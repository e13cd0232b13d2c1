import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RetryAction } from "@aws-sdk/client-batch";
import { encodeJobDefinitions, encodeTags, encodeWorkflow, EXIT_CODES, jobTagKeys, START_JOB_ENV } from "../contract";
import type { WorkflowSpec } from "../workflow/spec";
import { buildImage, sourceHash } from "./image";
import { roleNaming } from "../stack/naming";

export { sourceHash };
import { assumeRolePolicy, type PolicyStatement, policyJson, runJobsStatements, submitJobStatements } from "./iam";
import { ContainerJobDefinition, jobDefinitionNamesOf, type Platform, SPOT_RECLAIMED_RULES } from "./jobDefinition";
import type { JobQueue } from "./jobQueue";

/** Batch rejects job definitions over 24 KiB; leave room for the rest of the definition. */
export const MAX_WORKFLOW_JSON_BYTES = 16 * 1024;

export class OrchestratorArgsError extends Error {
  override readonly name = "OrchestratorArgsError";
}

export interface OrchestratorArgs {
  /** Queue the process jobs go to: the only queue the orchestrator may submit to. */
  readonly processQueue: JobQueue;
  /** Process job definitions by workflow key (the planner's `barrier` included). */
  readonly jobDefinitions: Readonly<Record<string, ContainerJobDefinition>>;
  /** The DAG every run goes through, passed to the start job (at most {@link MAX_WORKFLOW_JSON_BYTES} as JSON). */
  readonly workflow: WorkflowSpec;
  /**
   * A prebuilt start job image, pinned by tag or digest.
   * @default undefined (jobs/Dockerfile is built and pushed to an ECR repository of the component's own)
   */
  readonly image?: pulumi.Input<string>;
  /** vCPUs of the start job. */
  readonly vcpus: number;
  /** Memory of the start job, in MiB. */
  readonly memoryMiB: number;
  /** Also wait for the DAG and fail the start job when the run fails (`--wait`). @default false */
  readonly wait?: boolean;
  /**
   * The stack's output prefix (`trigger.outputPrefix`): each run's tasks write under
   * `<outputRoot><runId>/` (`PIPELINE_OUTPUT_ROOT`). @default none (tasks keep their definitions' environment)
   */
  readonly outputRoot?: string;
  /** Per attempt; a start job that times out is stopped and not retried. */
  readonly timeoutSeconds: number;
  /** Where the start job runs: the start queue's platform. @default EC2 */
  readonly platform?: Platform;
  /** Fargate only: give the task a public IP (public subnets without NAT). @default false */
  readonly assignPublicIp?: boolean;
  /** Days to keep the start job's logs. */
  readonly logRetentionDays: number;
  /**
   * The stack's id (its resource prefix): every job the start job submits is tagged
   * `pipeline:stack=<stack>`, and its role may terminate only jobs with that tag.
   */
  readonly stack: string;
  /** Tags on every resource, and on every job the start job submits. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/** The JSON the start job reads from PIPELINE_WORKFLOW, checked against Batch's size limit. */
export function workflowJson(workflow: WorkflowSpec): string {
  const json = encodeWorkflow(workflow);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_WORKFLOW_JSON_BYTES) {
    throw new OrchestratorArgsError(
      `The workflow spec is ${bytes} bytes as JSON; the start job definition holds at most ${MAX_WORKFLOW_JSON_BYTES} (Batch limits a job definition to 24 KiB)`,
    );
  }
  return json;
}

/**
 * Start job retries: Spot reclamation; a transient submission failure, rolled back (exit 3); and SIGTERM
 * (exit 143), after which a retried attempt finds the DAG and waits for it again. Retrying 143 is safe:
 * Batch never retries a job stopped by TerminateJob or by its timeout ("If a job is terminated or
 * cancelled, it isn't retried", job retries docs; timeouts likewise), so 143 is retried only when
 * something else stopped the container, such as a reclaimed or drained host.
 * Deterministic refusals (exit 4), bad input (2), a failed run (1) and crashes (70) hit the catch-all.
 */
export const START_JOB_EVALUATE_ON_EXIT = [
  ...SPOT_RECLAIMED_RULES,
  { onExitCode: String(EXIT_CODES.submissionFailed), action: RetryAction.RETRY },
  { onExitCode: String(EXIT_CODES.interrupted), action: RetryAction.RETRY },
  { onReason: "*", action: RetryAction.EXIT },
];

/** What the image is built from (mirrors the COPY lines of jobs/Dockerfile). */
export const IMAGE_SOURCES = ["package.json", "package-lock.json", "tsconfig.json", "contract", "workflow", "batch", "jobs"] as const;

/**
 * The start job: its image (built from jobs/Dockerfile into an ECR repository with immutable tags,
 * scan on push and a lifecycle policy, unless a prebuilt image is configured), a job role that may only
 * submit, inspect and cancel jobs on the process queue, and the job definition the S3 trigger submits.
 */
export class Orchestrator extends pulumi.ComponentResource {
  readonly repository?: aws.ecr.Repository;
  readonly imageUri: pulumi.Output<string>;
  readonly jobRole: aws.iam.Role;
  readonly jobDefinition: ContainerJobDefinition;

  constructor(name: string, args: OrchestratorArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:orchestrator:Orchestrator", name, {}, opts);
    const tags = args.tags ?? {};
    const workflow = workflowJson(args.workflow);

    if (args.image !== undefined) {
      this.imageUri = pulumi.output(args.image);
    } else {
      // Pulumi runs the program from the project directory (where Pulumi.yaml and package.json are).
      const root = process.cwd();
      const built = buildImage(name, { context: root, dockerfile: path.join(root, "jobs", "Dockerfile"), tag: sourceHash(root, IMAGE_SOURCES), tags }, this);
      this.repository = built.repository;
      const image = built.image;
      // awsx returns the digest form (repo@sha256:…): the job definition pins exactly what was built.
      this.imageUri = image.imageUri;
    }

    this.jobRole = new aws.iam.Role(
      `${name}-job-role`,
      { ...roleNaming(`${name}-job-role`), description: `Start job of ${name}: submits one run's DAG`, assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com", { parent: this }), tags },
      { parent: this },
    );
    const definitions = Object.values(args.jobDefinitions);
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-job-policy`,
      {
        role: this.jobRole.name,
        policy: policyJson(
          pulumi
            .all([submitJobStatements([args.processQueue], definitions, { keys: jobTagKeys(tags), stack: args.stack }), args.processQueue.arn])
            .apply(([submit, queueArn]): PolicyStatement[] => [...(submit as PolicyStatement[]), ...runJobsStatements(queueArn, args.stack)]),
        ),
      },
      { parent: this },
    );

    this.jobDefinition = new ContainerJobDefinition(
      `${name}-start`,
      {
        image: this.imageUri,
        vcpus: args.vcpus,
        memoryMiB: args.memoryMiB,
        command: args.wait ? ["--wait"] : undefined,
        environment: {
          [START_JOB_ENV.workflow]: workflow,
          [START_JOB_ENV.processQueue]: args.processQueue.arn,
          [START_JOB_ENV.jobDefinitions]: jobDefinitionNamesOf(args.jobDefinitions).apply(encodeJobDefinitions),
          [START_JOB_ENV.jobTags]: encodeTags(tags),
          [START_JOB_ENV.stack]: args.stack,
          ...(args.outputRoot !== undefined ? { [START_JOB_ENV.outputRoot]: args.outputRoot } : {}),
        },
        jobRoleArn: this.jobRole.arn,
        platform: args.platform,
        assignPublicIp: args.assignPublicIp,
        retryAttempts: 3,
        evaluateOnExit: START_JOB_EVALUATE_ON_EXIT,
        timeoutSeconds: args.timeoutSeconds,
        logRetentionDays: args.logRetentionDays,
        tags,
      },
      // The first start job must not run before its role may submit.
      { parent: this, dependsOn: [rolePolicy] },
    );
    this.registerOutputs({ imageUri: this.imageUri, jobDefinitionName: this.jobDefinition.name });
  }
}
