/**
 * The stack config's shapes and defaults (zod): the trigger, the orchestrator, notifications, logs and
 * tags here, where jobs run in platformSchema.ts. A value of the wrong shape fails `pulumi preview`
 * naming the key (formatting.ts); the rules between keys are named functions in rules.ts and
 * workflowRules.ts, applied by {@link pipelineConfigSchema}.
 */
import { z } from "zod";
import { ORCHESTRATOR_MODES, S3_MAX_KEY_BYTES, tagProblems, TRIGGER_DELIVERIES } from "../../contract";
import { queueMaxConcurrencyProblem } from "../triggerRules";
import { RUNNABLE_TIMEOUT_SECONDS, runnableTimeoutProblem } from "../batchRules";
import { DEFAULT_WORKFLOW } from "../../workflow/spec";
import {
  DEFAULT_PROCESS_JOB,
  fargateSchema,
  JOB_DEFINITION_KEY,
  networkSchema,
  onDemandSchema,
  pinnedImage,
  processJobSchema,
  queueSchema,
  spotSchema,
} from "./platformSchema";
import { type ConfigIssue, configIssues, triggerIssues } from "./rules";
import { startJobTimeoutSeconds, workflowOf } from "./workflowRules";

/** Size cap of the stack's tags as JSON (see `tags`). */
export const MAX_TAGS_JSON_BYTES = 2048;

/** Retention values CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** A zod refinement adding every issue the rules find, at their paths. */
function ruleCheck<T>(rules: (value: T) => ConfigIssue[]) {
  return (value: T, ctx: z.RefinementCtx<T>) => {
    for (const issue of rules(value)) ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
  };
}

// The tag rules are the contract's (contract/tags.ts), shared with the trigger and the start job; each
// problem is reported on the key it is about. The count is the tag budget's (rules.ts), which also knows
// the provider's default tags.
export const tagsSchema = z
  .record(z.string(), z.string())
  .superRefine((tags, ctx) => {
    for (const [key, value] of Object.entries(tags)) {
      for (const message of tagProblems({ [key]: value }, { strict: true, count: false })) ctx.addIssue({ code: "custom", path: [key], message });
    }
  })
  // They travel as JSON in the trigger Lambda's environment (4 KB for all variables) and in the start
  // job definition (24 KiB, the workflow included).
  .refine((t) => Buffer.byteLength(JSON.stringify(t)) <= MAX_TAGS_JSON_BYTES, {
    message: `at most ${MAX_TAGS_JSON_BYTES} bytes as JSON: the tags travel in the Lambda's 4 KB environment`,
  })
  .default({});

/** The AWS provider's `aws:defaultTags` (`{ "tags": { key: value } }`), read by loading.ts. */
export const awsDefaultTagsSchema = z.object({ tags: z.record(z.string(), z.string()).default({}) }).strict();

const prefix = z
  .string()
  .max(S3_MAX_KEY_BYTES)
  .refine((p) => !p.startsWith("/"), { message: "S3 keys do not start with `/`" });

const triggerSchema = z
  .object({
    /**
     * Only keys under this prefix start a run. Must not be empty: outputs go elsewhere. Only S3's safe
     * key characters but `*` (letters, digits, `! - _ . ' ( )`, `/`): it becomes a notification filter
     * and part of IAM ARNs, where `*` is a wildcard.
     * @default incoming/
     */
    prefix: prefix.default("incoming/"),
    /** Only keys ending with this start a run (e.g. `.csv`); S3's safe key characters only (`*` included). @default "" (any) */
    suffix: z.string().max(S3_MAX_KEY_BYTES).default(""),
    /** Where jobs write results; never under `prefix`, so the pipeline cannot trigger itself; the characters of `prefix`. @default results/ */
    outputPrefix: prefix.default("results/"),
    /** Delete old versions of overwritten objects after this many days; 0 keeps them. @default 30 */
    noncurrentVersionExpirationDays: z.number().int().min(0).default(30),
    /** Delete objects this many days after creation; 0 keeps them. @default 0 */
    expireObjectsAfterDays: z.number().int().min(0).default(0),
    /** How long a submitted object version is remembered, so a re-delivered event submits nothing. @default 7 */
    idempotencyDays: z.number().int().min(1).max(365).default(7),
    /**
     * Concurrent Lambda executions. Batch allows about 50 SubmitJob calls per second per account;
     * this keeps a burst of uploads from throttling the orchestrators' own submissions. 0 reserves
     * nothing (for accounts whose concurrency quota is too small to reserve from). @default 10
     */
    maxConcurrency: z.number().int().min(0).max(1000).default(10),
    /**
     * How S3's events reach the function: `async`, S3 invokes it (Lambda retries a failed event twice, then
     * the dead-letter queue); `queue`, S3 sends them to an SQS queue that a Lambda event source mapping
     * polls in batches (a failed message is received again, up to 5 times, then the dead-letter queue).
     * @default async
     */
    delivery: z.enum(TRIGGER_DELIVERIES).default("async"),
    /**
     * `queue` only: the event source mapping's maximum concurrency (2 to 1,000), at most `maxConcurrency`
     * when that reserves any. Each concurrent batch submits start jobs: keep it low (bench/burst.ts). @default 2
     */
    queueMaxConcurrency: z
      .number()
      .int()
      .refine((n) => queueMaxConcurrencyProblem(n) === undefined, { message: queueMaxConcurrencyProblem(0)!.rule })
      .default(2),
    /**
     * The Powertools for AWS Lambda (TypeScript) layer. By default it is looked up in AWS's public SSM
     * parameter for the exact version in package.json; set it where that parameter does not exist.
     */
    powertoolsLayerArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$/, { message: "must be a Lambda layer version ARN" })
      .optional(),
  })
  .strict()
  .superRefine(ruleCheck(triggerIssues));

const orchestratorSchema = z
  .object({
    /**
     * A prebuilt orchestrator image (e.g. from your CI). When unset, `pulumi up` builds jobs/Dockerfile
     * with Docker and pushes it to the stack's ECR repository.
     */
    image: pinnedImage.optional(),
    /** @default 1 */
    vcpus: z.number().int().min(1).default(1),
    /** Planning a million tasks needs well under 256 MiB. @default 1024 */
    memoryMiB: z.number().int().min(256).default(1024),
    /**
     * Who plans and submits each run's DAG: `container`, a start job (this image) on the start queue; `inline`, the
     * trigger Lambda itself, no start job; `auto`, inline when the run's plan needs at most
     * `AUTO_INLINE_MAX_SUBMIT_JOBS` (20) SubmitJob calls, else a start job (contract/orchestration.ts).
     * @default container
     */
    mode: z.enum(ORCHESTRATOR_MODES).default("container"),
    /** Also wait for the DAG and fail the start job if it fails (holds a vCPU for the whole run). @default false */
    wait: z.boolean().default(false),
    /**
     * Per attempt. A start job that times out is stopped and not retried, so with `wait` it must outlive
     * the run (`minimumWaitTimeoutSeconds`). @default 3600; with `wait`, 86400 or that minimum if longer
     */
    timeoutSeconds: z.number().int().min(60).optional(),
  })
  .strict();

const notificationsSchema = z
  .object({
    /** Email subscribed to failure alerts (failed jobs, dead-lettered events); confirm the subscription mail. */
    email: z.email().optional(),
    /**
     * Log the state changes of every array child in the job-state log group (about 5 events per task:
     * ~6 million for a 1,000,000-task run). false keeps plain jobs and array parents only. @default true
     */
    arrayChildStates: z.boolean().default(true),
  })
  .strict();

/** Every key's shape and default, before the rules between keys ({@link pipelineConfigSchema}). */
export const pipelineConfigObject = z
  .object({
    network: networkSchema.default({ mode: "default" }),
    compute: z
      .object({
        spot: spotSchema.default(spotSchema.parse({})),
        onDemand: onDemandSchema.default(onDemandSchema.parse({})),
        fargate: fargateSchema.default(fargateSchema.parse({})),
      })
      .strict()
      .default({
        spot: spotSchema.parse({}),
        onDemand: onDemandSchema.parse({}),
        fargate: fargateSchema.parse({}),
      }),
    /** Job queues sharing the EC2 environments (Spot first, then On-Demand). `high` and `low` are required. */
    queues: z
      .record(z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, { message: "must be 1-21 lowercase letters, digits or -" }), queueSchema)
      .default({ high: { priority: 100 }, low: { priority: 10 } }),
    /**
     * Cancel a job that stays RUNNABLE this long because no environment can place it (capacity or a
     * misconfigured resource requirement); 0 disables. Batch accepts 600 to 86,400 s. @default 3600
     */
    runnableTimeoutSeconds: z
      .number()
      .int()
      .refine((s) => s === 0 || runnableTimeoutProblem(s) === undefined, {
        message: `must be 0 (off) or from ${RUNNABLE_TIMEOUT_SECONDS.min} to ${RUNNABLE_TIMEOUT_SECONDS.max}`,
      })
      .default(3600),
    /** Queue the start (orchestrator) job goes to; `fargate` runs it on Fargate. @default high */
    startQueue: z.string().default("high"),
    /** Queue the process jobs of a workflow go to; `fargate` makes every process definition a Fargate one. @default low */
    processQueue: z.string().default("low"),
    /** Process job definitions, by the key workflow steps use. @default { process: busybox `echo hello world` } */
    jobDefinitions: z
      .record(z.string().regex(JOB_DEFINITION_KEY, { message: "must be 1-32 letters, digits or -, starting lowercase" }), processJobSchema)
      .default({ process: processJobSchema.parse(DEFAULT_PROCESS_JOB) }),
    trigger: triggerSchema.default(triggerSchema.parse({})),
    orchestrator: orchestratorSchema.default(orchestratorSchema.parse({})),
    /** The DAG each object runs through; validated at preview (parsed once: `workflowOf`). @default prepare → 3 × process → merge */
    workflow: z.unknown().default(DEFAULT_WORKFLOW),
    notifications: notificationsSchema.default(notificationsSchema.parse({})),
    /** CloudWatch Logs retention of job and function logs. @default 30 */
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
      })
      .default(30),
    /**
     * Tags on every resource (with the provider's default tags) and every job. How many fit is checked
     * by `tagBudgetProblem` in `parsePipelineConfig`, which also knows `aws:defaultTags`.
     */
    tags: tagsSchema,
    /**
     * The permissions boundary every IAM role of the stack carries: the managed policy deploy/ renders and
     * an administrator creates with the deploy roles, which may create and change roles only with it.
     * Unset, roles carry no boundary (and those deploy roles cannot deploy the stack).
     */
    permissionsBoundaryArn: z
      .string()
      .regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:policy\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/, {
        message: "must be an IAM managed policy ARN, arn:aws:iam::<account>:policy/<name>",
      })
      .optional(),
  })
  .strict();

/** A config whose every key has its shape and default, before the rules between keys: what rules read. */
export type ConfigDraft = z.output<typeof pipelineConfigObject>;

/** The whole stack config: shapes, then the rules between keys, then the typed workflow and the start job's timeout. */
export const pipelineConfigSchema = pipelineConfigObject
  .superRefine(ruleCheck(configIssues))
  // Only reached when valid: hand the rest of the program the typed workflow (parsed by the rules already).
  .transform((cfg) => {
    const workflow = workflowOf(cfg);
    return { ...cfg, orchestrator: { ...cfg.orchestrator, timeoutSeconds: startJobTimeoutSeconds(cfg.orchestrator, workflow, cfg.jobDefinitions) }, workflow };
  });

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;
export type NetworkConfig = PipelineConfig["network"];

/** The top-level stack config keys of the project namespace. */
export const CONFIG_KEYS = Object.keys(pipelineConfigObject.shape) as ReadonlyArray<keyof PipelineConfig>;
