/**
 * The rules about `workflow`: it parses as a spec over the configured job definitions, every step fits
 * ECS's container overrides for S3's longest key, and a waiting start job outlives the run. The spec is
 * parsed once per config ({@link workflowOf}) and handed on typed by the schema's transform.
 */
import { AUTO_INLINE_MAX_SUBMIT_JOBS, CONTAINER_OVERRIDES_HEADROOM_CHARS, INLINE_MAX_SUBMIT_JOBS, MAX_CONTAINER_OVERRIDES_CHARS } from "../../contract";
import { type Plan, PlanError, planWorkflow, topologicalOrder } from "../../workflow/planner";
import { containerOverridesLength, worstCaseInput } from "../../workflow/requestLimits";
import { parseWorkflowSpec, RESERVED_PARAMETERS, unfilledPlaceholders, type WorkflowSpec, WorkflowSpecError } from "../../workflow/spec";
import { PlatformCapability } from "@aws-sdk/client-batch";
import { jobSizeProblem } from "../batchRules";
import { definitionKeys } from "../model";
import { processPlatform } from "./platformSchema";
import type { ConfigIssue } from "./rules";
import type { ConfigDraft } from "./schema";

/** What of a job definition the start job's timeout depends on. */
type JobAttempts = Readonly<Record<string, { timeoutSeconds: number; retryAttempts: number }>>;

const parsed = new WeakMap<object, { spec: WorkflowSpec } | { error: WorkflowSpecError }>();

/**
 * `cfg.workflow` parsed against `cfg.jobDefinitions`' keys, once per config object: the rules (in the
 * schema's refinement) and the transform (which hands on the typed spec) read the same result.
 * @throws WorkflowSpecError naming the step and the rule for every problem (the same error each time).
 */
export function workflowOf(cfg: Pick<ConfigDraft, "workflow" | "jobDefinitions">): WorkflowSpec {
  let result = parsed.get(cfg);
  if (!result) {
    try {
      result = { spec: parseWorkflowSpec(cfg.workflow, { jobDefinitionKeys: Object.keys(cfg.jobDefinitions) }) };
    } catch (e) {
      if (!(e instanceof WorkflowSpecError)) throw e;
      result = { error: e };
    }
    parsed.set(cfg, result);
  }
  if ("error" in result) throw result.error;
  return result.spec;
}

/** The spec when it parses, undefined otherwise (then {@link workflowSpecRule} reports why). */
export function specOf(cfg: ConfigDraft): WorkflowSpec | undefined {
  try {
    return workflowOf(cfg);
  } catch (e) {
    if (!(e instanceof WorkflowSpecError)) throw e;
    return undefined;
  }
}

/** The workflow is a valid spec whose steps name configured job definitions. */
export function workflowSpecRule(cfg: ConfigDraft): ConfigIssue[] {
  try {
    workflowOf(cfg);
    return [];
  } catch (e) {
    if (!(e instanceof WorkflowSpecError)) throw e;
    return e.issues.map((message) => ({ path: ["workflow"], message }));
  }
}

/** The placeholder a job definition key's name is in a plan made at preview (the real names come with `pulumi up`). */
const placeholderName = (key: string) => `${key}-definition`;

/**
 * The workflow planned for the largest object a run can get ({@link worstCaseInput}: S3's longest key, the largest
 * size, so size-derived steps at their widest), job definitions, queue, run id and stack as placeholders.
 * @throws {PlanError}
 */
function worstCasePlan(spec: WorkflowSpec, definitions: Readonly<Record<string, unknown>>, outputRoot?: string): Plan {
  const jobDefinitions = Object.fromEntries(definitionKeys({ jobDefinitions: definitions }).map((k) => [k, placeholderName(k)]));
  return planWorkflow(spec, { runId: "0".repeat(24), input: worstCaseInput(), jobDefinitions, jobQueue: "process-queue", stack: "stack", ...(outputRoot !== undefined ? { outputRoot } : {}) });
}

/**
 * Plans the workflow for the largest object a run can get (a 1,024-byte key, S3's longest: see
 * {@link worstCaseInput}), so that a step whose SubmitJob request would exceed a Batch or ECS limit (the
 * 8,192 characters of container overrides above all) fails `pulumi preview`, naming the step and the
 * size, instead of the first upload with a long name. Job definition names and the queue are not part of
 * the overrides, so placeholders stand in for them. A step that keeps its job definition's command is
 * measured with that command, `Ref::` parameters substituted, as if Batch passed it to ECS as an
 * override (the worst case; the orchestrator cannot see definitions' commands at run time).
 */
export function worstCasePlanProblem(spec: WorkflowSpec, definitions: Readonly<Record<string, { command?: readonly string[] }>>, outputRoot?: string): string | undefined {
  const keyOf = new Map(definitionKeys({ jobDefinitions: definitions }).map((k) => [placeholderName(k), k]));
  const prefix = "cannot run for an input key of 1,024 bytes (S3's longest): ";
  try {
    const plan = worstCasePlan(spec, definitions, outputRoot);
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

/** Every step of a valid workflow fits ECS's container overrides for S3's longest key ({@link worstCasePlanProblem}). */
export function workflowOverridesRule(cfg: ConfigDraft): ConfigIssue[] {
  const spec = specOf(cfg);
  const problem = spec && worstCasePlanProblem(spec, cfg.jobDefinitions, cfg.trigger.outputPrefix);
  return problem ? [{ path: ["workflow"], message: problem }] : [];
}

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
export function minimumWaitTimeoutSeconds(spec: WorkflowSpec, jobs: JobAttempts): number {
  const finish = new Map<string, number>();
  for (const step of topologicalOrder(spec)) {
    const job = jobs[step.jobDefinition];
    const own = job ? job.retryAttempts * (step.timeoutSeconds ?? job.timeoutSeconds) : 0;
    finish.set(step.name, own + Math.max(0, ...step.dependsOn.map((d) => finish.get(d.step) ?? 0)));
  }
  return SUBMIT_ONLY_TIMEOUT_SECONDS + Math.max(0, ...finish.values());
}

/** The start job's timeout: as configured, or the default for its mode ({@link minimumWaitTimeoutSeconds}). */
export function startJobTimeoutSeconds(settings: { wait: boolean; timeoutSeconds?: number }, spec: WorkflowSpec, jobs: JobAttempts): number {
  if (settings.timeoutSeconds !== undefined) return settings.timeoutSeconds;
  return settings.wait ? Math.max(WAIT_TIMEOUT_SECONDS, minimumWaitTimeoutSeconds(spec, jobs)) : SUBMIT_ONLY_TIMEOUT_SECONDS;
}

/** A configured `orchestrator.timeoutSeconds` too short for `wait`, as the rule it breaks. */
export function waitTimeoutProblem(spec: WorkflowSpec, jobs: JobAttempts, timeoutSeconds: number): string | undefined {
  const needed = minimumWaitTimeoutSeconds(spec, jobs);
  if (timeoutSeconds >= needed) return undefined;
  return `${timeoutSeconds} is shorter than the run can take with \`wait\`: at least ${needed} s (${SUBMIT_ONLY_TIMEOUT_SECONDS} to submit, plus retryAttempts × timeoutSeconds along the workflow's longest chain of steps); a timed-out start job is not retried and reports the run failed while it goes on`;
}

/** With `orchestrator.wait`, a configured `orchestrator.timeoutSeconds` outlives the run ({@link waitTimeoutProblem}). */
export function waitTimeoutRule(cfg: ConfigDraft): ConfigIssue[] {
  const { wait, timeoutSeconds } = cfg.orchestrator;
  const spec = wait && timeoutSeconds !== undefined ? specOf(cfg) : undefined;
  const problem = spec && waitTimeoutProblem(spec, cfg.jobDefinitions, timeoutSeconds!);
  return problem ? [{ path: ["orchestrator", "timeoutSeconds"], message: problem }] : [];
}

/**
 * `orchestrator.wait` needs a start job to wait in: with `orchestrator.mode: inline` no run has one (the trigger
 * returns once the DAG is submitted), so the pair is refused; `auto` with `wait` always takes a start job.
 */
export function inlineWaitRule(cfg: ConfigDraft): ConfigIssue[] {
  const { mode, wait } = cfg.orchestrator;
  return mode === "inline" && wait
    ? [{ path: ["orchestrator", "wait"], message: "`orchestrator.mode: inline` runs no start job to wait in; use mode `container` (or `auto`, which then always takes a start job), or wait with `batch-pipeline watch`" }]
    : [];
}

/**
 * With `orchestrator.mode: inline` every run's plan is submitted within one invocation's budget, so the workflow's
 * largest plan (for the largest input: size-derived widths at their `max`) needs at most `INLINE_MAX_SUBMIT_JOBS`
 * SubmitJob calls; `auto` hands a large plan to a start job instead.
 */
export function inlinePlanRule(cfg: ConfigDraft): ConfigIssue[] {
  if (cfg.orchestrator.mode !== "inline") return [];
  const spec = specOf(cfg);
  if (!spec) return [];
  let calls: number;
  try {
    calls = worstCasePlan(spec, cfg.jobDefinitions).jobs.length;
  } catch (e) {
    if (e instanceof PlanError) return []; // workflowOverridesRule reports it
    throw e;
  }
  return calls > INLINE_MAX_SUBMIT_JOBS
    ? [{
        path: ["orchestrator", "mode"],
        message: `the workflow's largest plan (size-derived steps at their \`max\` width) needs ${calls} SubmitJob calls, more than the ${INLINE_MAX_SUBMIT_JOBS} an inline invocation's budget is sized for; use \`auto\` (a start job for plans over ${AUTO_INLINE_MAX_SUBMIT_JOBS} calls), \`container\`, or a lower \`max\` on the chunked steps`,
      }]
    : [];
}

/**
 * A step's overrides (`vcpus`, `memoryMiB`, `gpus`, `timeoutSeconds`) keep Batch's rules for where its
 * job definition runs: the size, with the definition's value for what the step leaves out, is one the
 * platform runs (Fargate's table, whole vCPUs on EC2: the component's `jobSizeProblem`); GPUs on EC2 only
 * (ResourceRequirement: "GPUs aren't available for jobs that are running on Fargate resources").
 */
export function stepOverridesRule(cfg: ConfigDraft): ConfigIssue[] {
  const spec = specOf(cfg);
  if (!spec) return [];
  const platform = processPlatform(cfg);
  return spec.steps.flatMap((step): ConfigIssue[] => {
    const job = cfg.jobDefinitions[step.jobDefinition];
    if (!job || (step.vcpus === undefined && step.memoryMiB === undefined && step.gpus === undefined)) return [];
    const at = `workflow step \`${step.name}\``;
    const issues: ConfigIssue[] = [];
    const size = jobSizeProblem(platform, step.vcpus ?? job.vcpus, step.memoryMiB ?? job.memoryMiB);
    if (size) issues.push({ path: ["workflow"], message: `${at}: ${size.field} ${step[size.field] ?? job[size.field]}: ${size.rule}${platform === PlatformCapability.FARGATE ? " (processQueue is `fargate`)" : ""}` });
    if (step.gpus !== undefined && platform === PlatformCapability.FARGATE) {
      issues.push({ path: ["workflow"], message: `${at}: gpus ${step.gpus}: GPUs are not available to jobs on Fargate resources (processQueue is \`fargate\`)` });
    }
    return issues;
  });
}

/**
 * Every `Ref::` placeholder a task's command holds has a value, and no definition's default parameter is
 * one the pipeline sets (the planner's value would win: `RESERVED_PARAMETERS`). A step's command, or its
 * definition's when it has none, may use the pipeline's parameters, the definition's `parameters` and the
 * step's; a definition no step runs, its own and the pipeline's. Batch leaves an unfilled placeholder in
 * the command as literal text ("Parameter substitution", Batch user guide), so a typo would reach the
 * program silently.
 */
export function placeholdersRule(cfg: ConfigDraft): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [key, job] of Object.entries(cfg.jobDefinitions)) {
    for (const name of Object.keys(job.parameters ?? {})) {
      if (RESERVED_PARAMETERS.includes(name)) {
        issues.push({ path: ["jobDefinitions", key, "parameters", name], message: `is a parameter the pipeline sets on every task (${RESERVED_PARAMETERS.join(", ")}): its value would never be used; rename it` });
      }
    }
  }
  const spec = specOf(cfg);
  const used = new Set(spec?.steps.filter((s) => !s.command).map((s) => s.jobDefinition) ?? []);
  for (const [key, job] of Object.entries(cfg.jobDefinitions)) {
    if (!job.command || used.has(key)) continue;
    const left = unfilledPlaceholders(job.command, [...RESERVED_PARAMETERS, ...Object.keys(job.parameters ?? {})]);
    if (left.length > 0) issues.push({ path: ["jobDefinitions", key, "command"], message: placeholderMessage(left, `jobDefinitions.${key}.parameters`) });
  }
  for (const step of spec?.steps ?? []) {
    const job = cfg.jobDefinitions[step.jobDefinition];
    const command = step.command ?? job?.command;
    if (!job || !command) continue;
    const left = unfilledPlaceholders(command, [...RESERVED_PARAMETERS, ...Object.keys(job.parameters ?? {}), ...Object.keys(step.parameters ?? {})]);
    if (left.length === 0) continue;
    const whose = step.command ? "its command" : `jobDefinitions.${step.jobDefinition}.command, which it runs,`;
    issues.push({ path: ["workflow"], message: `workflow step \`${step.name}\`: ${whose} ${placeholderMessage(left, `the step's parameters or jobDefinitions.${step.jobDefinition}.parameters`)}` });
  }
  return issues;
}

function placeholderMessage(left: readonly string[], where: string): string {
  return `holds ${left.join(", ")}, which nothing fills (the pipeline's are ${RESERVED_PARAMETERS.map((p) => `Ref::${p}`).join(", ")}): Batch would pass ${left.length === 1 ? "it" : "them"} to the program as literal text; fix the name or give a value in ${where}`;
}
