/**
 * The rules between stack config keys: each a named, pure function from the shaped config
 * ({@link ConfigDraft}) to the issues it finds, at the key paths they name. {@link configIssues} applies
 * them in order; the schema (schema.ts) reports what they return. A rule a component also checks calls
 * the component's exported problem function and maps its field to the config key.
 */
import { PlatformCapability } from "@aws-sdk/client-batch";
import { BARRIER_JOB_DEFINITION_KEY, jobTagKeys, MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT, type TriggerDelivery } from "../../contract";
import { queueConcurrencyProblem } from "../triggerRules";
import { jobSizeProblem, minVcpusProblem } from "../batchRules";
import { FARGATE_QUEUE, processPlatform } from "./platformSchema";
import { containerProblems, environmentProblems } from "../containerRules";
import { retryOnProblems } from "../retryStrategy";
import type { ConfigDraft } from "./schema";
import { shellPlaceholderProblem, shellScriptIndex } from "../../workflow/spec";
import { inlinePlanRule, inlineWaitRule, placeholdersRule, specOf, stepOverridesRule, waitTimeoutRule, workflowOverridesRule, workflowSpecRule } from "./workflowRules";

/** One broken rule: the key path (relative to the schema that applies the rule) and the rule. */
export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** A rule over the whole shaped config. */
export type ConfigRule = (cfg: ConfigDraft) => ConfigIssue[];

/** The EC2 environments every EC2 queue holds, in the order the queues try them. */
export const EC2_ENVIRONMENTS = ["spot", "onDemand"] as const;
export type Ec2Environment = (typeof EC2_ENVIRONMENTS)[number];
/** A rule about one EC2 environment. */
export type Ec2EnvironmentRule = (cfg: ConfigDraft, env: Ec2Environment) => ConfigIssue[];

export { FARGATE_QUEUE, processPlatform };

/** The config key whose value names the AWS provider's default tags. */
export const AWS_DEFAULT_TAGS_KEY = "aws:defaultTags";

/** Graviton (arm64) instance types and families: `a1`, `m7g`, `c6gn`, `x2gd`, `im4gn`, `default_arm64`. */
export function isArm64InstanceType(type: string): boolean {
  return type === "default_arm64" || /^(a1|[a-z]+\d+g[a-z]*)(\.|$)/.test(type);
}

/**
 * S3's "safe characters" for object keys (S3 user guide, "Naming Amazon S3 objects", object key naming
 * guidelines): ASCII letters and digits, `! - _ . * ' ( )`, and `/`, the folder delimiter.
 */
export const S3_SAFE_KEY_CHARACTERS = /^[A-Za-z0-9!\-_.*'()/]$/;

/** The distinct characters of `value` outside {@link S3_SAFE_KEY_CHARACTERS}, in order of appearance. */
export function unsafeKeyFilterCharacters(value: string): string[] {
  return [...new Set(Array.from(value).filter((c) => !S3_SAFE_KEY_CHARACTERS.test(c)))];
}

/** What the trigger rules read (their paths are relative to `trigger`). */
export interface TriggerKeys {
  readonly prefix: string;
  readonly suffix: string;
  readonly outputPrefix: string;
}

/**
 * `trigger.prefix` and `trigger.suffix` hold S3's safe key characters only. S3 user guide, "Configuring
 * event notifications using object key name filtering": special characters in a filter must be
 * URL-encoded, and which encoding S3 expects for each is not documented precisely, so such a filter might
 * silently never match. The values go to the BucketNotification as they are.
 */
export function triggerFilterCharactersRule(t: TriggerKeys): ConfigIssue[] {
  return (["prefix", "suffix"] as const).flatMap((key) => {
    const unsafe = unsafeKeyFilterCharacters(t[key]);
    if (unsafe.length === 0) return [];
    return [{
      path: [key],
      message:
        `holds ${unsafe.map((c) => JSON.stringify(c)).join(", ")}, outside S3's safe key characters (A-Z a-z 0-9 ! - _ . * ' ( ) and /); ` +
        "S3 wants other characters of a notification filter URL-encoded in a way it does not document exactly, so trigger.prefix and trigger.suffix take safe characters only",
    }];
  });
}

/**
 * What IAM and S3 both read literally: S3's safe key characters without `*`. In the ARNs the prefixes go
 * into (`arn:aws:s3:::<bucket>/<prefix>*`, the trigger's and process roles' grants), `*` and `?` are
 * wildcards and `${…}` a policy variable (IAM user guide, "IAM JSON policy elements: Resource" and
 * "Policy variables"), so `outputPrefix: "*"` would grant writes under every prefix, trigger.prefix's
 * included, and start runs in a loop.
 */
export const IAM_LITERAL_PREFIX_CHARACTERS = /^[A-Za-z0-9!\-_.'()/]$/;

/**
 * `trigger.prefix` and `trigger.outputPrefix` hold only {@link IAM_LITERAL_PREFIX_CHARACTERS}. For the
 * prefix, characters outside S3's safe ones are {@link triggerFilterCharactersRule}'s to report (one
 * message per mistake): this rule adds `*`.
 */
export function triggerPrefixCharactersRule(t: TriggerKeys): ConfigIssue[] {
  return (["prefix", "outputPrefix"] as const).flatMap((key) => {
    const reported = key === "prefix" ? new Set(unsafeKeyFilterCharacters(t.prefix)) : new Set<string>();
    const bad = [...new Set(Array.from(t[key]).filter((c) => !IAM_LITERAL_PREFIX_CHARACTERS.test(c) && !reported.has(c)))];
    if (bad.length === 0) return [];
    return [{
      path: [key],
      message:
        `holds ${bad.map((c) => JSON.stringify(c)).join(", ")}, which IAM ARNs or S3 filters do not read literally (in an ARN * and ? are wildcards, \${…} a policy variable): ` +
        "trigger.prefix and trigger.outputPrefix go into the roles' s3 ARNs and take A-Z a-z 0-9 ! - _ . ' ( ) and / only",
    }];
  });
}

/** Neither prefix is empty and they do not overlap: the pipeline must never trigger itself. */
export function triggerPrefixesRule(t: TriggerKeys): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (t.prefix === "") issues.push({ path: ["prefix"], message: "must not be empty: every key, outputs included, would trigger a run" });
  if (t.outputPrefix === "") {
    issues.push({ path: ["outputPrefix"], message: "must not be empty: results would land under every prefix, trigger.prefix included" });
  } else if (t.outputPrefix.startsWith(t.prefix) || t.prefix.startsWith(t.outputPrefix)) {
    issues.push({ path: ["outputPrefix"], message: `must not overlap trigger.prefix (${JSON.stringify(t.prefix)}): results written there would start new runs` });
  }
  return issues;
}

/** What the delivery rule reads (its paths are relative to `trigger`). */
export interface TriggerDeliveryKeys {
  readonly delivery: TriggerDelivery;
  readonly maxConcurrency: number;
  readonly queueMaxConcurrency: number;
}

/**
 * With `delivery: queue`, `queueMaxConcurrency` ≤ `maxConcurrency` when that reserves any (not 0): the Trigger
 * component's {@link queueConcurrencyProblem}. Another delivery has no event source mapping to check.
 */
export function triggerQueueConcurrencyRule(t: TriggerDeliveryKeys): ConfigIssue[] {
  if (t.delivery !== "queue") return [];
  const problem = queueConcurrencyProblem(t.queueMaxConcurrency, t.maxConcurrency === 0 ? undefined : t.maxConcurrency);
  if (!problem) return [];
  return [{
    path: [problem.field],
    message: `queueMaxConcurrency = ${t.queueMaxConcurrency} > maxConcurrency = ${t.maxConcurrency}; ${problem.rule}: set trigger.maxConcurrency to at least ${t.queueMaxConcurrency} (or 0, reserving none), or lower trigger.queueMaxConcurrency`,
  }];
}

/** The rules of `trigger`, in order (applied by the trigger's own schema). */
export const TRIGGER_RULES: readonly ((t: TriggerKeys & TriggerDeliveryKeys) => ConfigIssue[])[] = [triggerFilterCharactersRule, triggerPrefixCharactersRule, triggerPrefixesRule, triggerQueueConcurrencyRule];
export const triggerIssues = (t: TriggerKeys & TriggerDeliveryKeys): ConfigIssue[] => TRIGGER_RULES.flatMap((rule) => rule(t));

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
  // A job's tags combined with its definition's, by name: what `jobTagKeys` counts.
  const combined = jobTagKeys({ ...awsDefaultTags, ...tags }).length;
  if (combined <= MAX_TAGS_PER_JOB) return undefined;
  return (
    `${own} tags, ${defaults} ${AWS_DEFAULT_TAGS_KEY} and the pipeline's own ${PIPELINE_TAG_COUNT} make ${combined} distinct tags on every job ` +
    `(its own and its job definition's, combined by name) > ${MAX_TAGS_PER_JOB}; Batch fails a job whose combined tags exceed ${MAX_TAGS_PER_JOB}`
  );
}

/** Queues `high` and `low` exist: the defaults of `startQueue` and `processQueue`. */
export const requiredQueuesRule: ConfigRule = (cfg) =>
  ["high", "low"].filter((q) => !(q in cfg.queues)).map((q) => ({ path: ["queues", q], message: `queue \`${q}\` is required` }));

/** Queues sharing environments have distinct priorities (the later queue is named). */
export const distinctPrioritiesRule: ConfigRule = (cfg) => {
  const issues: ConfigIssue[] = [];
  const priorities = new Map<number, string>();
  for (const [name, q] of Object.entries(cfg.queues)) {
    const other = priorities.get(q.priority);
    if (other !== undefined) {
      issues.push({
        path: ["queues", name, "priority"],
        message: `priority ${q.priority} is already used by queue \`${other}\`; queues sharing environments need distinct priorities`,
      });
    }
    priorities.set(q.priority, name);
  }
  return issues;
};

/** `high` runs before `low`. */
export const highAboveLowRule: ConfigRule = (cfg) =>
  (cfg.queues.high?.priority ?? 1) <= (cfg.queues.low?.priority ?? 0)
    ? [{ path: ["queues", "high", "priority"], message: `must be greater than queues.low.priority (${cfg.queues.low?.priority})` }]
    : [];

/** The queue names there are: the configured ones and, when enabled, {@link FARGATE_QUEUE}. */
export function queueNames(cfg: ConfigDraft): string[] {
  return [...Object.keys(cfg.queues), ...(cfg.compute.fargate.enabled ? [FARGATE_QUEUE] : [])];
}

/** `startQueue` and `processQueue` name queues that exist. */
export const queueReferencesRule: ConfigRule = (cfg) => {
  const names = queueNames(cfg);
  return (["startQueue", "processQueue"] as const)
    .filter((key) => !names.includes(cfg[key]))
    .map((key) => ({
      path: [key],
      message: cfg[key] === FARGATE_QUEUE ? "the `fargate` queue exists only with compute.fargate.enabled: true" : `is not a queue (queues: ${names.join(", ")})`,
    }));
};

/**
 * A job is a size its queue's environments run: Fargate's table on the Fargate queue (its definitions are
 * Fargate definitions), whole vCPUs on EC2 (both the job definition component's {@link jobSizeProblem}),
 * and no more vCPUs than the environments have (it would stay RUNNABLE until runnableTimeoutSeconds).
 */
export const jobSizesRule: ConfigRule = (cfg) => {
  const ec2MaxVcpus = Math.max(cfg.compute.spot.maxVcpus, cfg.compute.onDemand.maxVcpus);
  const check = (queueKey: "startQueue" | "processQueue", size: { vcpus: number; memoryMiB: number }, path: string[], what: string): ConfigIssue[] => {
    const issues: ConfigIssue[] = [];
    const fargate = cfg[queueKey] === FARGATE_QUEUE;
    const problem = jobSizeProblem(fargate ? PlatformCapability.FARGATE : PlatformCapability.EC2, size.vcpus, size.memoryMiB);
    if (problem) {
      const context = fargate ? `${queueKey} is \`fargate\`` : `fractions need ${queueKey} \`fargate\``;
      issues.push({ path: [...path, problem.field], message: `${problem.rule} (${context})` });
    }
    const [max, where] = fargate
      ? [cfg.compute.fargate.maxVcpus, "compute.fargate.maxVcpus"]
      : [ec2MaxVcpus, "the larger of compute.spot.maxVcpus and compute.onDemand.maxVcpus"];
    if (size.vcpus > max) issues.push({ path: [...path, "vcpus"], message: `exceeds ${where} (${max}); ${what} could never be placed` });
    return issues;
  };
  return [
    ...Object.entries(cfg.jobDefinitions).flatMap(([key, job]) => check("processQueue", job, ["jobDefinitions", key], "the job")),
    ...check("startQueue", cfg.orchestrator, ["orchestrator"], "the start job"),
  ];
};

/**
 * Each process definition's container fields keep Batch's rules for the platform the process queue runs
 * on (stack/containerRules.ts, the job definition component's own check), and its `retryOn` fits Batch's
 * retry rules (stack/retryStrategy.ts).
 */
export const jobDefinitionContainersRule: ConfigRule = (cfg) => {
  const platform = processPlatform(cfg);
  const where = platform === PlatformCapability.FARGATE ? " (processQueue is `fargate`)" : "";
  return Object.entries(cfg.jobDefinitions).flatMap(([key, job]) => [
    ...[...environmentProblems(job.environment), ...containerProblems(platform, job)].map((p) => ({ path: ["jobDefinitions", key, ...p.path], message: `${p.rule}${where}` })),
    ...retryOnProblems(job.retryOn ?? {}, job.retryAttempts).map((p) => ({ path: ["jobDefinitions", key, ...p.path], message: p.rule })),
  ]);
};

/**
 * No job definition's command puts a `Ref::` placeholder inside a shell's `-c` script (workflow/spec.ts
 * {@link shellPlaceholderProblem}, the rule a workflow step's command also keeps and `batch-pipeline run`
 * applies): Batch substitutes the object's key into it as text.
 */
export const jobDefinitionShellRule: ConfigRule = (cfg) =>
  Object.entries(cfg.jobDefinitions).flatMap(([key, job]) => {
    const index = job.command && shellScriptIndex(job.command);
    const problem = job.command && shellPlaceholderProblem(job.command);
    return problem && index !== undefined ? [{ path: ["jobDefinitions", key, "command", index], message: problem }] : [];
  });

/** GPU instance families (`p3`, `p4d`, `g5`, `g6e`, `g5g`): what Batch's GPU jobs need ("GPU jobs", Batch user guide). */
export const isGpuInstanceType = (type: string): boolean => /^(p|g)\d/.test(type);

/**
 * A job that asks for GPUs (a definition's `gpus` or a step's) can be placed: an EC2 environment lists GPU
 * instance types. "All instance types in a compute environment that run GPU jobs should be from the p2,
 * p3, g3, g3s, or g4 instance families. If this isn't done a GPU job might get stuck in the RUNNABLE
 * status" (Batch user guide, "GPU jobs"); `optimal` holds none.
 */
export const gpuInstanceTypesRule: ConfigRule = (cfg) => {
  // On Fargate the job definition's own rule says GPUs are not available there.
  if (processPlatform(cfg) === PlatformCapability.FARGATE) return [];
  const definitions = Object.entries(cfg.jobDefinitions).filter(([, job]) => job.gpus !== undefined).map(([key]) => `jobDefinitions.${key}`);
  // A workflow that does not parse is workflowSpecRule's to report.
  const steps = (specOf(cfg)?.steps ?? []).filter((s) => s.gpus !== undefined).map((s) => `workflow step \`${s.name}\``);
  const asking = [...definitions, ...steps];
  if (asking.length === 0 || EC2_ENVIRONMENTS.some((env) => cfg.compute[env].instanceTypes.some(isGpuInstanceType))) return [];
  return [{
    path: ["compute", "spot", "instanceTypes"],
    message: `list no GPU instance types (p3, p4d, g5, …), nor do compute.onDemand.instanceTypes, but ${asking.join(", ")} asks for GPUs: the job would stay RUNNABLE until runnableTimeoutSeconds cancels it`,
  }];
};

/** No configured queue is called {@link FARGATE_QUEUE}. */
export const reservedQueueNameRule: ConfigRule = (cfg) =>
  FARGATE_QUEUE in cfg.queues
    ? [{ path: ["queues", FARGATE_QUEUE], message: "`fargate` is reserved for the Fargate queue (compute.fargate.enabled); rename this queue" }]
    : [];

/** No job definition key is the planner's barrier key, nor starts with `orchestrator`. */
export const reservedJobDefinitionKeysRule: ConfigRule = (cfg) => [
  ...(BARRIER_JOB_DEFINITION_KEY in cfg.jobDefinitions
    ? [{ path: ["jobDefinitions", BARRIER_JOB_DEFINITION_KEY], message: `\`${BARRIER_JOB_DEFINITION_KEY}\` is reserved for the planner's no-op jobs` }]
    : []),
  ...Object.keys(cfg.jobDefinitions)
    .filter((k) => /^orchestrator(-|$)/.test(k))
    .map((key) => ({ path: ["jobDefinitions", key], message: "keys starting with `orchestrator` are reserved: the start job's definition and log group are named so" })),
];

const architectures = (types: readonly string[]) => new Set(types.map((t) => (isArm64InstanceType(t) ? "arm64" : "x86_64")));

/** Batch requires one architecture per queue: each EC2 environment's instance types are of one. */
export const environmentArchitectureRule: ConfigRule = (cfg) =>
  EC2_ENVIRONMENTS.filter((key) => architectures(cfg.compute[key].instanceTypes).size > 1).map((key) => ({
    path: ["compute", key, "instanceTypes"],
    message: `mixes arm64 (${cfg.compute[key].instanceTypes.filter(isArm64InstanceType).join(", ")}) with x86_64 types; Batch requires one architecture per queue`,
  }));

/** …and both environments are of the same one, since every EC2 queue holds both. */
export const sharedArchitectureRule: ConfigRule = (cfg) => {
  const [spot, onDemand] = EC2_ENVIRONMENTS.map((key) => [...architectures(cfg.compute[key].instanceTypes)]);
  if (spot!.length !== 1 || onDemand!.length !== 1 || spot![0] === onDemand![0]) return [];
  return [{
    path: ["compute", "onDemand", "instanceTypes"],
    message: `are ${onDemand![0]} but compute.spot.instanceTypes are ${spot![0]}; both environments serve every EC2 queue, and Batch requires one architecture per queue`,
  }];
};

/** The start job runs on the EC2 environments unless it is on Fargate, and its image is linux/amd64. */
export const startJobArchitectureRule: Ec2EnvironmentRule = (cfg, env) => {
  if (cfg.startQueue === FARGATE_QUEUE) return [];
  return cfg.compute[env].instanceTypes.flatMap((type, i) =>
    isArm64InstanceType(type)
      ? [{ path: ["compute", env, "instanceTypes", i], message: "is an arm64 (Graviton) type, but the orchestrator image is linux/amd64 and runs here; use x86_64 types or startQueue `fargate`" }]
      : [],
  );
};

/** `minVcpus` ≤ `maxVcpus`: the compute environment component's {@link minVcpusProblem}. */
export const minVcpusRule: Ec2EnvironmentRule = (cfg, env) => {
  const { minVcpus, maxVcpus } = cfg.compute[env];
  const problem = minVcpusProblem(minVcpus, maxVcpus);
  return problem ? [{ path: ["compute", env, problem.field], message: `minVcpus = ${minVcpus} > maxVcpus = ${maxVcpus}; ${problem.rule}` }] : [];
};

/** The rules about one EC2 environment, applied to Spot's, then On-Demand's. */
export const EC2_ENVIRONMENT_RULES: readonly Ec2EnvironmentRule[] = [startJobArchitectureRule, minVcpusRule];

/** Batch allows at most 50 job queues per region; the Fargate queue counts. */
export const queueCountRule: ConfigRule = (cfg) =>
  queueNames(cfg).length > 50 ? [{ path: ["queues"], message: "Batch allows at most 50 job queues per region" }] : [];

/** Every rule between keys, in the order their issues are reported. */
export const CONFIG_RULES: readonly ConfigRule[] = [
  workflowSpecRule,
  workflowOverridesRule,
  waitTimeoutRule,
  inlineWaitRule,
  inlinePlanRule,
  requiredQueuesRule,
  distinctPrioritiesRule,
  highAboveLowRule,
  queueReferencesRule,
  jobSizesRule,
  jobDefinitionContainersRule,
  jobDefinitionShellRule,
  stepOverridesRule,
  placeholdersRule,
  gpuInstanceTypesRule,
  reservedQueueNameRule,
  reservedJobDefinitionKeysRule,
  environmentArchitectureRule,
  sharedArchitectureRule,
  (cfg) => EC2_ENVIRONMENTS.flatMap((env) => EC2_ENVIRONMENT_RULES.flatMap((rule) => rule(cfg, env))),
  queueCountRule,
];

/** What every rule finds in `cfg`, in order. */
export const configIssues = (cfg: ConfigDraft): ConfigIssue[] => CONFIG_RULES.flatMap((rule) => rule(cfg));
