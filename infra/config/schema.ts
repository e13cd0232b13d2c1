/**
 * Stack configuration: one zod schema, defaults included, validated before any resource is declared so
 * that a bad value fails `pulumi preview` (and the pull request) with a message naming the key, the
 * value and the rule.
 */
import { CRAllocationStrategy } from "@aws-sdk/client-batch";
import { z } from "zod";
import { CONTAINER_OVERRIDES_HEADROOM_CHARS, MAX_CONTAINER_OVERRIDES_CHARS, MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT, TAG_KEYS } from "../../contract";
import { fargateSizeProblem } from "../fargate";
import { BARRIER_JOB_DEFINITION_KEY, containerOverridesLength, PlanError, planWorkflow, topologicalOrder, worstCaseInput } from "../../jobs/planner";
import { DEFAULT_WORKFLOW, parseWorkflowSpec, type WorkflowSpec, WorkflowSpecError } from "../../jobs/spec";

/** Size cap of the stack's tags as JSON (see `tags`). */
export const MAX_TAGS_JSON_BYTES = 2048;

/** Name of the Fargate queue, created when `compute.fargate.enabled`. */
export const FARGATE_QUEUE = "fargate";

/** Retention values CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Allocation strategies Batch accepts for each compute resource type. */
export const SPOT_ALLOCATION_STRATEGIES = [
  CRAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
  CRAllocationStrategy.SPOT_CAPACITY_OPTIMIZED,
  CRAllocationStrategy.BEST_FIT_PROGRESSIVE,
  CRAllocationStrategy.BEST_FIT,
] as const;
export const ON_DEMAND_ALLOCATION_STRATEGIES = [
  CRAllocationStrategy.BEST_FIT_PROGRESSIVE,
  CRAllocationStrategy.BEST_FIT,
] as const;

const vcpus = z.number().int().min(0).max(100_000);
// EC2 instance type names such as `optimal`, `c7i`, `m7g.2xlarge`.
const instanceType = z.string().regex(/^(optimal|default_x86_64|default_arm64|[a-z][a-z0-9-]*(\.[a-z0-9]+)?)$/, {
  message: "must be `optimal`, an instance family (`c7i`) or an instance type (`c7i.2xlarge`)",
});
const instanceTypes = z.array(instanceType).min(1).default(["optimal"]);

/** Graviton (arm64) instance types and families: `a1`, `m7g`, `c6gn`, `x2gd`, `im4gn`, `default_arm64`. */
export function isArm64InstanceType(type: string): boolean {
  return type === "default_arm64" || /^(a1|[a-z]+\d+g[a-z]*)(\.|$)/.test(type);
}

const spotSchema = z
  .object({
    /** Instances kept warm. @default 0 (scale to zero when idle) */
    minVcpus: vcpus.default(0),
    /** @default 64 */
    maxVcpus: vcpus.min(1).default(64),
    /** Highest Spot price, as a percentage of the On-Demand price. @default 100 */
    bidPercentage: z.number().int().min(1).max(100).default(100),
    /** @default SPOT_PRICE_CAPACITY_OPTIMIZED */
    allocationStrategy: z.enum(SPOT_ALLOCATION_STRATEGIES).default(CRAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED),
    instanceTypes,
  })
  .strict();

const onDemandSchema = z
  .object({
    minVcpus: vcpus.default(0),
    /** The fallback is smaller than Spot by default: it only absorbs what Spot cannot place. @default 16 */
    maxVcpus: vcpus.min(1).default(16),
    /** @default BEST_FIT_PROGRESSIVE */
    allocationStrategy: z.enum(ON_DEMAND_ALLOCATION_STRATEGIES).default(CRAllocationStrategy.BEST_FIT_PROGRESSIVE),
    instanceTypes,
  })
  .strict();

const fargateSchema = z
  .object({
    /** @default false */
    enabled: z.boolean().default(false),
    /** @default 16 */
    maxVcpus: vcpus.min(1).default(16),
    /** Put a FARGATE_SPOT environment before FARGATE in the Fargate queue. @default true */
    spotFirst: z.boolean().default(true),
    /** Priority of the Fargate queue (Fargate cannot share a queue with EC2). @default 50 */
    priority: z.number().int().min(0).max(1000).default(50),
    /**
     * Give Fargate tasks a public IP, which they need to pull images and reach AWS APIs from a public
     * subnet without a NAT gateway. @default true with `network.mode: default`, false otherwise
     */
    assignPublicIp: z.boolean().optional(),
  })
  .strict();

const queueSchema = z
  .object({
    /** Higher runs first when queues share environments. 0 to 1000. */
    priority: z.number().int().min(0).max(1000),
  })
  .strict();

const networkSchema = z.discriminatedUnion("mode", [
  z
    .object({
      /** The account's default VPC and its default subnets (public). Cheapest; fine for trials. */
      mode: z.literal("default"),
    })
    .strict(),
  z
    .object({
      /** A new VPC (awsx) with private subnets behind NAT. */
      mode: z.literal("new"),
      /** @default 10.0.0.0/16 */
      cidrBlock: z
        .string()
        .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/, { message: "must be an IPv4 CIDR from /16 to /24" })
        .default("10.0.0.0/16"),
      /** @default 2 */
      availabilityZones: z.number().int().min(1).max(6).default(2),
      /** `Single` is cheap, `OnePerAz` survives an AZ outage, `None` needs VPC endpoints you add. @default Single */
      natGateways: z.enum(["None", "Single", "OnePerAz"]).default("Single"),
    })
    .strict(),
  z
    .object({
      mode: z.literal("existing"),
      vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { message: "must be a VPC id like vpc-0123456789abcdef0" }),
      subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "must be a subnet id like subnet-0123abcd" }))
        .min(1),
    })
    .strict(),
]);

const tagKey = z.string().min(1).max(128).regex(/^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, {
  message: "must be 1-128 letters, digits, spaces or _ . : / = + - @ and not start with `aws:`",
});
const tagValue = z.string().max(256).regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, {
  message: "must be at most 256 letters, digits, spaces or _ . : / = + - @",
});

const tagsSchema = z
  .record(tagKey, tagValue)
  .refine((t) => Object.keys(t).every((k) => !k.toLowerCase().startsWith("pipeline:")), {
    message: "keys starting with `pipeline:` are the pipeline's own",
  })
  // They travel as JSON in the trigger Lambda's environment (4 KB for all variables) and in the start
  // job definition (24 KiB, the workflow included).
  .refine((t) => Buffer.byteLength(JSON.stringify(t)) <= MAX_TAGS_JSON_BYTES, {
    message: `at most ${MAX_TAGS_JSON_BYTES} bytes as JSON: the tags travel in the Lambda's 4 KB environment`,
  })
  .default({});

/** The Pulumi stack config key of the AWS provider's default tags (`{ "tags": { key: value } }`). */
export const AWS_DEFAULT_TAGS_KEY = "aws:defaultTags";

const awsDefaultTagsSchema = z.object({ tags: z.record(z.string(), z.string()).default({}) }).strict();

/**
 * What of the providers' stack config the validation needs: the AWS provider adds `aws:defaultTags` to
 * every resource it creates, job definitions included, but not to jobs, which are submitted by the SDK.
 */
export interface ProviderConfig {
  /** The JSON-decoded value of `aws:defaultTags`. @default none */
  awsDefaultTags?: unknown;
}

/** Reads {@link ProviderConfig} from the flat config map Pulumi hands the program (`ns:key` → JSON text). */
export function providerConfigFromPulumi(all: Record<string, string>): ProviderConfig {
  const text = all[AWS_DEFAULT_TAGS_KEY];
  if (text === undefined) return {};
  try {
    return { awsDefaultTags: JSON.parse(text) };
  } catch {
    return { awsDefaultTags: text };
  }
}

/**
 * Batch moves a job to FAILED when its tags and its job definition's tags together exceed
 * {@link MAX_TAGS_PER_JOB} (the pipeline submits with `propagateTags`); tags of the same name are one tag,
 * the job's value winning (SubmitJob `propagateTags`: "For tags with the same name, job tags are given
 * priority over job definitions tags. If the total number of combined tags from the job and job
 * definition is over 50, the job is moved to the FAILED state"). A job carries the stack's `tags` and the
 * pipeline's own {@link PIPELINE_TAG_COUNT}; its definition carries `tags` and `aws:defaultTags`.
 * @returns the rule broken, or undefined when the tags fit.
 */
export function tagBudgetProblem(tags: Readonly<Record<string, string>>, awsDefaultTags: Readonly<Record<string, string>> = {}): string | undefined {
  const own = Object.keys(tags).length;
  const defaults = Object.keys(awsDefaultTags).length;
  const combined = new Set([...Object.keys(tags), ...Object.keys(awsDefaultTags), ...Object.values(TAG_KEYS)]).size;
  if (combined <= MAX_TAGS_PER_JOB) return undefined;
  return (
    `${own} tags, ${defaults} ${AWS_DEFAULT_TAGS_KEY} and the pipeline's own ${PIPELINE_TAG_COUNT} make ${combined} distinct tags on every job ` +
    `(its own and its job definition's, combined by name) > ${MAX_TAGS_PER_JOB}; Batch fails a job whose combined tags exceed ${MAX_TAGS_PER_JOB}`
  );
}

/** Names usable as job definition keys in workflow specs. */
export const JOB_DEFINITION_KEY = /^[a-z][a-zA-Z0-9-]{0,31}$/;
/** Reserved for the no-op jobs the planner inserts to stay under Batch's 20 dependencies per job. */
export { BARRIER_JOB_DEFINITION_KEY };

const processJobSchema = z
  .object({
    /** Pin a tag or digest; `:latest` makes runs unreproducible. */
    image: z.string().min(1).refine((i) => !i.endsWith(":latest"), { message: "pin a tag or digest instead of `:latest`" }),
    /** @default 1 */
    vcpus: z.number().positive().default(1),
    /** @default 2048 */
    memoryMiB: z.number().int().min(4).default(2048),
    command: z.array(z.string()).optional(),
    environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "must be a valid environment variable name" }), z.string()).default({}),
    /** Per attempt. @default 3600 */
    timeoutSeconds: z.number().int().min(60).default(3600),
    /** @default 3 */
    retryAttempts: z.number().int().min(1).max(10).default(3),
  })
  .strict();
export type ProcessJobConfig = z.infer<typeof processJobSchema>;

/** The original proof of concept's process job. ECR Public's mirror avoids Docker Hub's pull limits. */
export const DEFAULT_PROCESS_JOB = {
  image: "public.ecr.aws/docker/library/busybox:1.37",
  command: ["echo", "hello world"],
} as const;

/**
 * S3's "safe characters" for object keys (S3 user guide, "Naming Amazon S3 objects", object key naming
 * guidelines): ASCII letters and digits, `! - _ . * ' ( )`, and `/`, the folder delimiter.
 */
export const S3_SAFE_KEY_CHARACTERS = /^[A-Za-z0-9!\-_.*'()/]$/;

/** The distinct characters of `value` outside {@link S3_SAFE_KEY_CHARACTERS}, in order of appearance. */
export function unsafeKeyFilterCharacters(value: string): string[] {
  return [...new Set(Array.from(value).filter((c) => !S3_SAFE_KEY_CHARACTERS.test(c)))];
}

const prefix = z
  .string()
  .max(1024)
  .refine((p) => !p.startsWith("/"), { message: "S3 keys do not start with `/`" });

const triggerSchema = z
  .object({
    /**
     * Only keys under this prefix start a run. Must not be empty: outputs go elsewhere. Only S3's safe
     * key characters (letters, digits, `! - _ . * ' ( )`, `/`): it becomes a notification filter.
     * @default incoming/
     */
    prefix: prefix.default("incoming/"),
    /** Only keys ending with this start a run (e.g. `.csv`); safe key characters only, as `prefix`. @default "" (any) */
    suffix: z.string().max(1024).default(""),
    /** Where jobs write results; never under `prefix`, so the pipeline cannot trigger itself. @default results/ */
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
     * The Powertools for AWS Lambda (TypeScript) layer. By default it is looked up in AWS's public SSM
     * parameter for the exact version in package.json; set it where that parameter does not exist.
     */
    powertoolsLayerArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$/, { message: "must be a Lambda layer version ARN" })
      .optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    // S3 user guide, "Configuring event notifications using object key name filtering": special
    // characters in a filter's prefix or suffix must be URL-encoded, and which encoding S3 expects for
    // each character is not documented precisely, so such a filter might silently never match. The
    // values are passed to the BucketNotification as they are, so only safe characters are allowed.
    for (const key of ["prefix", "suffix"] as const) {
      const unsafe = unsafeKeyFilterCharacters(t[key]);
      if (unsafe.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message:
            `holds ${unsafe.map((c) => JSON.stringify(c)).join(", ")}, outside S3's safe key characters (A-Z a-z 0-9 ! - _ . * ' ( ) and /); ` +
            "S3 wants other characters of a notification filter URL-encoded in a way it does not document exactly, so trigger.prefix and trigger.suffix take safe characters only",
        });
      }
    }
    if (t.prefix === "") {
      ctx.addIssue({ code: "custom", path: ["prefix"], message: "must not be empty: every key, outputs included, would trigger a run" });
    }
    if (t.outputPrefix === "") {
      ctx.addIssue({ code: "custom", path: ["outputPrefix"], message: "must not be empty: results would land under every prefix, trigger.prefix included" });
    } else if (t.outputPrefix.startsWith(t.prefix) || (t.outputPrefix !== "" && t.prefix.startsWith(t.outputPrefix))) {
      ctx.addIssue({
        code: "custom",
        path: ["outputPrefix"],
        message: `must not overlap trigger.prefix (${JSON.stringify(t.prefix)}): results written there would start new runs`,
      });
    }
  });

const orchestratorSchema = z
  .object({
    /**
     * A prebuilt orchestrator image (e.g. from your CI). When unset, `pulumi up` builds jobs/Dockerfile
     * with Docker and pushes it to the stack's ECR repository.
     */
    image: z.string().min(1).refine((i) => !i.endsWith(":latest"), { message: "pin a tag or digest instead of `:latest`" }).optional(),
    /** @default 1 */
    vcpus: z.number().int().min(1).default(1),
    /** Planning a million tasks needs well under 256 MiB. @default 1024 */
    memoryMiB: z.number().int().min(256).default(1024),
    /** Also wait for the DAG and fail the start job if it fails (holds a vCPU for the whole run). @default false */
    wait: z.boolean().default(false),
    /**
     * Per attempt. A start job that times out is stopped and not retried, so with `wait` it must outlive
     * the run ({@link minimumWaitTimeoutSeconds}). @default 3600; with `wait`, 86400 or that minimum if longer
     */
    timeoutSeconds: z.number().int().min(60).optional(),
  })
  .strict();

/** The start job's timeout when it only submits: planning, submission, and stopping a partial DAG (600 s). */
export const SUBMIT_ONLY_TIMEOUT_SECONDS = 3600;
/** The start job's timeout when it also waits for the run (`orchestrator.wait`): a day. */
export const WAIT_TIMEOUT_SECONDS = 86_400;

/**
 * With `orchestrator.wait`, the least timeout the start job needs: it must outlive the run, or Batch stops it (a timed-out job is
 * not retried) and the run is reported failed while its DAG goes on. The least a run can take to fail
 * slowly is its critical path with every attempt of every step used up: the sum over the longest chain
 * of steps of `retryAttempts × timeoutSeconds`, plus the submit-only time. (Steps wider than the
 * capacity run in several waves and take longer still: this is a floor, not an estimate.)
 */
export function minimumWaitTimeoutSeconds(spec: WorkflowSpec, jobs: Readonly<Record<string, { timeoutSeconds: number; retryAttempts: number }>>): number {
  const finish = new Map<string, number>();
  for (const step of topologicalOrder(spec)) {
    const job = jobs[step.jobDefinition];
    const own = job ? job.retryAttempts * job.timeoutSeconds : 0;
    finish.set(step.name, own + Math.max(0, ...step.dependsOn.map((d) => finish.get(d.step) ?? 0)));
  }
  return SUBMIT_ONLY_TIMEOUT_SECONDS + Math.max(0, ...finish.values());
}

/** The start job's timeout: as configured, or the default for its mode ({@link minimumWaitTimeoutSeconds}). */
export function startJobTimeoutSeconds(
  settings: { wait: boolean; timeoutSeconds?: number },
  spec: WorkflowSpec,
  jobs: Readonly<Record<string, { timeoutSeconds: number; retryAttempts: number }>>,
): number {
  if (settings.timeoutSeconds !== undefined) return settings.timeoutSeconds;
  return settings.wait ? Math.max(WAIT_TIMEOUT_SECONDS, minimumWaitTimeoutSeconds(spec, jobs)) : SUBMIT_ONLY_TIMEOUT_SECONDS;
}

/** A configured `orchestrator.timeoutSeconds` too short for `wait`, as the rule it breaks. */
export function waitTimeoutProblem(
  spec: WorkflowSpec,
  jobs: Readonly<Record<string, { timeoutSeconds: number; retryAttempts: number }>>,
  timeoutSeconds: number,
): string | undefined {
  const needed = minimumWaitTimeoutSeconds(spec, jobs);
  if (timeoutSeconds >= needed) return undefined;
  return `${timeoutSeconds} is shorter than the run can take with \`wait\`: at least ${needed} s (${SUBMIT_ONLY_TIMEOUT_SECONDS} to submit, plus retryAttempts × timeoutSeconds along the workflow's longest chain of steps); a timed-out start job is not retried and reports the run failed while it goes on`;
}

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

const pipelineConfigObject = z
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
      .refine((s) => s === 0 || (s >= 600 && s <= 86_400), { message: "must be 0 (off) or from 600 to 86400" })
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
    /** The DAG each object runs through; validated at preview. @default prepare → 3 × process → merge */
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
     * by {@link tagBudgetProblem} in {@link parsePipelineConfig}, which also knows `aws:defaultTags`.
     */
    tags: tagsSchema,
  })
  .strict();

/**
 * Plans the workflow for the largest object a run can get (a 1,024-byte key, S3's longest: see
 * {@link worstCaseInput}), so that a step whose SubmitJob request would exceed a Batch or ECS limit (the
 * 8,192 characters of container overrides above all) fails `pulumi preview`, naming the step and the
 * size, instead of the first upload with a long name. Job definition names and the queue are not part of
 * the overrides, so placeholders stand in for them. A step that keeps its job definition's command is
 * measured with that command, `Ref::` parameters substituted, as if Batch passed it to ECS as an
 * override (the worst case; the orchestrator cannot see definitions' commands at run time).
 */
export function worstCasePlanProblem(spec: WorkflowSpec, definitions: Readonly<Record<string, { command?: readonly string[] }>>): string | undefined {
  const keyOf = new Map([...Object.keys(definitions), BARRIER_JOB_DEFINITION_KEY].map((k) => [`${k}-definition`, k]));
  const names = Object.fromEntries([...keyOf].map(([name, key]) => [key, name]));
  const prefix = "cannot run for an input key of 1,024 bytes (S3's longest): ";
  try {
    const plan = planWorkflow(spec, { runId: "0".repeat(24), input: worstCaseInput(), jobDefinitions: names, jobQueue: "process-queue", stack: "stack" });
    for (const job of plan.jobs) {
      const command = definitions[keyOf.get(job.request.jobDefinition) ?? ""]?.command;
      if (job.request.containerOverrides?.command || !command) continue;
      const size = containerOverridesLength({ ...job.request, containerOverrides: { ...job.request.containerOverrides, command: [...command] } }) + CONTAINER_OVERRIDES_HEADROOM_CHARS;
      if (size > MAX_CONTAINER_OVERRIDES_CHARS) {
        return `${prefix}step \`${job.step}\` (job \`${job.id}\`) with its job definition's command: container overrides of about ${size} characters with the ${CONTAINER_OVERRIDES_HEADROOM_CHARS} that Batch adds, over ECS's limit of ${MAX_CONTAINER_OVERRIDES_CHARS}; shorten the command or the step's environment`;
      }
    }
    return undefined;
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    return `${prefix}${e.message}`;
  }
}

export const pipelineConfigSchema = pipelineConfigObject
  .superRefine((cfg, ctx) => {
    try {
      const spec = parseWorkflowSpec(cfg.workflow, { jobDefinitionKeys: Object.keys(cfg.jobDefinitions) });
      const problem = worstCasePlanProblem(spec, cfg.jobDefinitions);
      if (problem) ctx.addIssue({ code: "custom", path: ["workflow"], message: problem });
      const timeout = cfg.orchestrator.timeoutSeconds;
      const tooShort = cfg.orchestrator.wait && timeout !== undefined ? waitTimeoutProblem(spec, cfg.jobDefinitions, timeout) : undefined;
      if (tooShort) ctx.addIssue({ code: "custom", path: ["orchestrator", "timeoutSeconds"], message: tooShort });
    } catch (e) {
      if (!(e instanceof WorkflowSpecError)) throw e;
      for (const issue of e.issues) ctx.addIssue({ code: "custom", path: ["workflow"], message: issue });
    }
    for (const required of ["high", "low"]) {
      if (!(required in cfg.queues)) {
        ctx.addIssue({ code: "custom", path: ["queues", required], message: `queue \`${required}\` is required` });
      }
    }
    const priorities = new Map<number, string>();
    for (const [name, q] of Object.entries(cfg.queues)) {
      const other = priorities.get(q.priority);
      if (other !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["queues", name, "priority"],
          message: `priority ${q.priority} is already used by queue \`${other}\`; queues sharing environments need distinct priorities`,
        });
      }
      priorities.set(q.priority, name);
    }
    if ((cfg.queues.high?.priority ?? 1) <= (cfg.queues.low?.priority ?? 0)) {
      ctx.addIssue({
        code: "custom",
        path: ["queues", "high", "priority"],
        message: `must be greater than queues.low.priority (${cfg.queues.low?.priority})`,
      });
    }
    const queueNames = [...Object.keys(cfg.queues), ...(cfg.compute.fargate.enabled ? [FARGATE_QUEUE] : [])];
    for (const key of ["startQueue", "processQueue"] as const) {
      if (!queueNames.includes(cfg[key])) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message:
            cfg[key] === FARGATE_QUEUE
              ? "the `fargate` queue exists only with compute.fargate.enabled: true"
              : `is not a queue (queues: ${queueNames.join(", ")})`,
        });
      }
    }
    // A job must be a size its queue's environments run: Fargate's table on the Fargate queue (its
    // definitions are Fargate definitions), whole vCPUs on EC2, and no more vCPUs than the environments
    // have (it would stay RUNNABLE until runnableTimeoutSeconds).
    const ec2MaxVcpus = Math.max(cfg.compute.spot.maxVcpus, cfg.compute.onDemand.maxVcpus);
    const checkSize = (queueKey: "startQueue" | "processQueue", size: { vcpus: number; memoryMiB: number }, path: string[], what: string) => {
      const fargate = cfg[queueKey] === FARGATE_QUEUE;
      const problem = fargate ? fargateSizeProblem(size.vcpus, size.memoryMiB) : undefined;
      if (problem) ctx.addIssue({ code: "custom", path: [...path, problem.field], message: `${problem.rule} (${queueKey} is \`fargate\`)` });
      if (!fargate && !Number.isInteger(size.vcpus)) {
        ctx.addIssue({ code: "custom", path: [...path, "vcpus"], message: `EC2 jobs take whole vCPUs (fractions need ${queueKey} \`fargate\`)` });
      }
      const [max, where] = fargate
        ? [cfg.compute.fargate.maxVcpus, "compute.fargate.maxVcpus"]
        : [ec2MaxVcpus, "the larger of compute.spot.maxVcpus and compute.onDemand.maxVcpus"];
      if (size.vcpus > max) ctx.addIssue({ code: "custom", path: [...path, "vcpus"], message: `exceeds ${where} (${max}); ${what} could never be placed` });
    };
    for (const [key, job] of Object.entries(cfg.jobDefinitions)) checkSize("processQueue", job, ["jobDefinitions", key], "the job");
    checkSize("startQueue", cfg.orchestrator, ["orchestrator"], "the start job");
    if (FARGATE_QUEUE in cfg.queues) {
      ctx.addIssue({
        code: "custom",
        path: ["queues", FARGATE_QUEUE],
        message: "`fargate` is reserved for the Fargate queue (compute.fargate.enabled); rename this queue",
      });
    }
    if (BARRIER_JOB_DEFINITION_KEY in cfg.jobDefinitions) {
      ctx.addIssue({
        code: "custom",
        path: ["jobDefinitions", BARRIER_JOB_DEFINITION_KEY],
        message: `\`${BARRIER_JOB_DEFINITION_KEY}\` is reserved for the planner's no-op jobs`,
      });
    }
    for (const key of Object.keys(cfg.jobDefinitions).filter((k) => /^orchestrator(-|$)/.test(k))) {
      ctx.addIssue({
        code: "custom",
        path: ["jobDefinitions", key],
        message: "keys starting with `orchestrator` are reserved: the start job's definition and log group are named so",
      });
    }
    const envs = [
      ["spot", cfg.compute.spot],
      ["onDemand", cfg.compute.onDemand],
    ] as const;
    // Batch requires one architecture per queue, and every EC2 queue holds both environments.
    const archOf = (t: string) => (isArm64InstanceType(t) ? "arm64" : "x86_64");
    const archs = { spot: new Set(cfg.compute.spot.instanceTypes.map(archOf)), onDemand: new Set(cfg.compute.onDemand.instanceTypes.map(archOf)) };
    for (const key of ["spot", "onDemand"] as const) {
      if (archs[key].size > 1) {
        const arm = cfg.compute[key].instanceTypes.filter(isArm64InstanceType);
        ctx.addIssue({
          code: "custom",
          path: ["compute", key, "instanceTypes"],
          message: `mixes arm64 (${arm.join(", ")}) with x86_64 types; Batch requires one architecture per queue`,
        });
      }
    }
    if (archs.spot.size === 1 && archs.onDemand.size === 1 && [...archs.spot][0] !== [...archs.onDemand][0]) {
      ctx.addIssue({
        code: "custom",
        path: ["compute", "onDemand", "instanceTypes"],
        message: `are ${[...archs.onDemand][0]} but compute.spot.instanceTypes are ${[...archs.spot][0]}; both environments serve every EC2 queue, and Batch requires one architecture per queue`,
      });
    }
    for (const [key, env] of envs) {
      // The start job runs on the EC2 environments unless it is on Fargate, and its image is linux/amd64.
      if (cfg.startQueue !== FARGATE_QUEUE) {
        env.instanceTypes.forEach((type, i) => {
          if (isArm64InstanceType(type)) {
            ctx.addIssue({
              code: "custom",
              path: ["compute", key, "instanceTypes", i],
              message: "is an arm64 (Graviton) type, but the orchestrator image is linux/amd64 and runs here; use x86_64 types or startQueue `fargate`",
            });
          }
        });
      }
      if (env.minVcpus > env.maxVcpus) {
        ctx.addIssue({
          code: "custom",
          path: ["compute", key, "minVcpus"],
          message: `minVcpus = ${env.minVcpus} > maxVcpus = ${env.maxVcpus}; minVcpus cannot exceed maxVcpus`,
        });
      }
    }
    if (Object.keys(cfg.queues).length + (cfg.compute.fargate.enabled ? 1 : 0) > 50) {
      ctx.addIssue({ code: "custom", path: ["queues"], message: "Batch allows at most 50 job queues per region" });
    }
  })
  // Only reached when valid: hand the rest of the program the typed workflow.
  .transform((cfg) => {
    const workflow = parseWorkflowSpec(cfg.workflow, { jobDefinitionKeys: Object.keys(cfg.jobDefinitions) }) as WorkflowSpec;
    return { ...cfg, orchestrator: { ...cfg.orchestrator, timeoutSeconds: startJobTimeoutSeconds(cfg.orchestrator, workflow, cfg.jobDefinitions) }, workflow };
  });

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;
export type NetworkConfig = PipelineConfig["network"];

/** A stack configuration value failed validation. The message lists every bad key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid stack configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`, options);
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Formats zod issues as `<namespace>:<key>.<path> = <value>: <rule>`, the way a user writes `pulumi config`. */
export function formatIssues(error: z.ZodError, raw: unknown, namespace: string): string[] {
  const describe = (path: readonly PropertyKey[], message: string) => {
    const [top, ...rest] = path;
    const key = `${namespace}:${String(top ?? "")}${rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
    // Workflow messages name the step and field themselves; echoing the whole spec would bury them.
    if (top === "workflow") return `${key}: ${message}`;
    const value = valueAt(raw, path);
    const shown = value === undefined ? "(unset)" : JSON.stringify(value);
    return `${key} = ${shown}: ${message}`;
  };
  return error.issues.flatMap((issue) =>
    // Name each unknown key itself (usually a typo), not the object around it.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((k) => describe([...issue.path, k], "unknown key; check the spelling against the config reference"))
      : [describe(issue.path, issue.message)],
  );
}

/**
 * Validates a raw configuration object (as read from `Pulumi.<stack>.yaml`) and fills in defaults.
 * `provider` carries what of other namespaces the rules need ({@link providerConfigFromPulumi}): the AWS
 * provider's default tags count against the tag budget of every job ({@link tagBudgetProblem}).
 * @throws ConfigError naming every bad key, its value and the rule.
 */
export function parsePipelineConfig(raw: Record<string, unknown>, namespace = "batch-pipeline", provider: ProviderConfig = {}): PipelineConfig {
  const result = pipelineConfigSchema.safeParse(raw);
  const issues = result.success ? [] : formatIssues(result.error, raw, namespace);
  // The tag budget depends on another provider's config, so it is checked here rather than in the
  // schema; only when both sets of tags are themselves valid (their own issues are reported otherwise).
  const defaults = awsDefaultTagsSchema.safeParse(provider.awsDefaultTags ?? {});
  if (!defaults.success) {
    issues.push(`${AWS_DEFAULT_TAGS_KEY} = ${JSON.stringify(provider.awsDefaultTags)}: must be {"tags": {<key>: <value>, ...}}, the AWS provider's default tags`);
  }
  const tags = result.success ? { success: true as const, data: result.data.tags } : tagsSchema.safeParse(raw.tags);
  const budget = tags.success && defaults.success ? tagBudgetProblem(tags.data, defaults.data.tags) : undefined;
  if (budget) issues.push(`${namespace}:tags = ${JSON.stringify(raw.tags ?? {})}: ${budget}`);
  if (!result.success || issues.length > 0) {
    throw new ConfigError(issues, { cause: result.success ? undefined : result.error });
  }
  return result.data;
}

/** The top-level stack config keys of the project namespace. */
export const CONFIG_KEYS = Object.keys(pipelineConfigObject.shape) as ReadonlyArray<keyof PipelineConfig>;

/**
 * Collects this project's keys from the flat config map Pulumi hands the program (`ns:key` → JSON or
 * plain string), so that an unknown key (a typo) is reported instead of silently ignored.
 */
export function rawConfigFromPulumi(all: Record<string, string>, namespace: string): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${namespace}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    try {
      raw[key] = JSON.parse(text);
    } catch {
      // Plain strings are stored unquoted.
      raw[key] = text;
    }
  }
  return raw;
}
