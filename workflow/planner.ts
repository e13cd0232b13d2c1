/**
 * Turns a workflow spec and an input object into the SubmitJob requests of one run. Pure, no I/O.
 *
 * Batch limits shape the plan (see docs/aws-batch-limits.md): a step of width 1 is a plain job, up to
 * 10,000 tasks one array job, wider steps several array jobs; a job never lists more than 20
 * dependencies (extra ones go through a tree of no-op barrier jobs). So a fan-out/fan-in of 1,000,000
 * tasks is about a hundred SubmitJob calls, and planning cost grows with jobs, never with tasks.
 * Every job must also be able to start: its container overrides fit ECS's 8,192 characters with room for
 * what Batch adds, which SubmitJob does not check.
 */
import type { ContainerOverrides, KeyValuePair, ResourceRequirement, SubmitJobCommandInput } from "@aws-sdk/client-batch";
import {
  BARRIER_JOB_DEFINITION_KEY,
  chunkBytesOf,
  inputEnvironment,
  inputParameters,
  isTagValue,
  keepErrorFields,
  MAX_TAG_VALUE_CHARS,
  RUN_ID_PATTERN,
  runJobNamePrefix,
  runOutputPrefix,
  sanitizeTagValue,
  START_JOB_ENV,
  TAG_KEYS,
  tagProblems,
  TASK_ENV,
  TASK_PARAMETERS,
  type InputObject,
} from "../contract";

import { MAX_DEPENDENCIES_PER_JOB, requestProblem } from "./requestLimits";
import type { StepSpec, WorkflowSpec } from "./spec";
import { MAX_STEP_WIDTH, resolveWidth } from "./width";

/** Batch array jobs have 2 to 10,000 children. */
export const MAX_ARRAY_SIZE = 10_000;
/** Command of barrier jobs: they only exist to collapse dependencies, so they do nothing. */
export const BARRIER_COMMAND: readonly string[] = ["true"];

/** A dependency on an earlier job of the same plan, by plan-local id (Batch job ids do not exist yet). */
export interface PlannedDependency {
  id: string;
  /** Only between array jobs of the same size. @default a plain dependency */
  type?: "N_TO_N";
}

/** A SubmitJob request without `dependsOn`: the submitter fills that in once it knows real job ids. */
export type PlannedSubmitJobRequest = Omit<SubmitJobCommandInput, "dependsOn"> & {
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
};

/** One SubmitJob call of a plan. */
export interface PlannedJob {
  /** Unique within the plan; the job name is `${runId}-${id}`. */
  id: string;
  /** The step this job runs, or (for a barrier) the step whose dependencies it collapses. */
  step: string;
  kind: "task" | "barrier";
  /** Index of this job's first task within its step. 0 for barriers. */
  taskOffset: number;
  /** Tasks this job runs: the array size, or 1 for a plain job. */
  taskCount: number;
  /** Every entry refers to a job earlier in {@link Plan.jobs}; at most 20. */
  dependsOn: PlannedDependency[];
  request: PlannedSubmitJobRequest;
}

/** Summary of one step of a plan. */
export interface PlannedStep {
  name: string;
  width: number;
  /** Ids of the jobs that run this step's tasks, in task order. */
  jobIds: string[];
  /** Ids of the barrier jobs this step waits on. */
  barrierIds: string[];
}

/** The SubmitJob requests of one run, in an order where every dependency comes first. */
export interface Plan {
  runId: string;
  jobQueue: string;
  /** Every job name of the run starts with this; the submitter finds an earlier attempt's jobs by it. */
  jobNamePrefix: string;
  input: InputObject;
  /** Steps in dependency order. */
  steps: PlannedStep[];
  jobs: PlannedJob[];
  /** Tasks over all steps (barriers not counted). */
  taskCount: number;
}

/** What a plan needs besides the workflow. */
export interface PlanContext {
  /** The run id: 24 lowercase hex characters (see RUN_ID_PATTERN). */
  runId: string;
  input: InputObject;
  /** Job definition key → job definition name (or ARN prefix). Must include `barrier` if any step needs barriers. */
  jobDefinitions: Record<string, string>;
  /** Name or ARN of the queue every job goes to. */
  jobQueue: string;
  /**
   * The stack's id (`PIPELINE_STACK`): the value of the {@link TAG_KEYS.stack} tag on every job, which
   * the start job's IAM role keys on. Must already be a valid tag value: it is never rewritten.
   */
  stack: string;
  /**
   * Extra tags on every job (e.g. stack or cost-centre tags). Values are sanitised like the pipeline's own.
   * @default none
   */
  tags?: Record<string, string>;
  /**
   * The stack's `trigger.outputPrefix` (`PIPELINE_OUTPUT_ROOT`): every task is told to write under
   * `runOutputPrefix(outputRoot, runId)`. @default not set (tasks keep their definition's environment)
   */
  outputRoot?: string;
}

/** The workflow cannot be planned for this input (a width over the limit, a missing job definition…). */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    keepErrorFields(this, "PlanError", message);
  }
}

/**
 * Plans a run. Deterministic: the same spec and context always give the same job names, which is what
 * lets a retried start job recognise the DAG an earlier attempt submitted.
 * @throws {PlanError}
 */
export function planWorkflow(spec: WorkflowSpec, ctx: PlanContext): Plan {
  if (!RUN_ID_PATTERN.test(ctx.runId)) throw new PlanError(`runId \`${ctx.runId}\` must match ${RUN_ID_PATTERN}`);
  const tags = buildTags(ctx);
  const jobs: PlannedJob[] = [];
  const planned = new Map<string, PlannedStep>();

  for (const step of topologicalOrder(spec)) {
    const width = resolveWidth(step, ctx.input);
    if (width > MAX_STEP_WIDTH) throw new PlanError(`step \`${step.name}\`: width ${width} exceeds the limit of ${MAX_STEP_WIDTH} tasks`);
    const chunks = splitIntoChunks(width);
    const jobIds = chunks.map((_, k) => (chunks.length === 1 ? step.name : `${step.name}-p${k}`));

    const plainDeps = step.dependsOn.filter((d) => d.type !== "N_TO_N").flatMap((d) => planned.get(d.step)!.jobIds);
    const nToN = step.dependsOn.filter((d) => d.type === "N_TO_N").map((d) => planned.get(d.step)!);
    for (const dep of nToN) {
      if (dep.width !== width) {
        throw new PlanError(`step \`${step.name}\`: N_TO_N dependency on \`${dep.name}\` needs equal widths, but they resolved to ${width} and ${dep.width}`);
      }
    }

    const barriers = collapseDependencies(step.name, plainDeps.map((id) => ({ id })), MAX_DEPENDENCIES_PER_JOB - nToN.length);
    for (const barrier of barriers.jobs) jobs.push(barrierJob(barrier, step.name, ctx, tags));

    chunks.forEach((chunk, k) => {
      // N_TO_N between two plain jobs is just a plain dependency; Batch only accepts the type on arrays.
      const pairs = nToN.map((dep): PlannedDependency => (chunk.size > 1 ? { id: dep.jobIds[k], type: "N_TO_N" } : { id: dep.jobIds[k] }));
      jobs.push(taskJob(step, jobIds[k], chunk, width, [...barriers.roots, ...pairs], ctx, tags));
    });
    planned.set(step.name, { name: step.name, width, jobIds, barrierIds: barriers.jobs.map((b) => b.id) });
  }

  const plan: Plan = {
    runId: ctx.runId,
    jobQueue: ctx.jobQueue,
    jobNamePrefix: runJobNamePrefix(ctx.runId),
    input: ctx.input,
    steps: [...planned.values()],
    jobs,
    taskCount: [...planned.values()].reduce((sum, s) => sum + s.width, 0),
  };
  for (const job of plan.jobs) checkRequest(job);
  return plan;
}

/** Steps in dependency order; among independent steps the author's order is kept so plans read naturally. */
export function topologicalOrder(spec: WorkflowSpec): StepSpec[] {
  const done = new Set<string>();
  const ordered: StepSpec[] = [];
  let pending = spec.steps;
  while (pending.length > 0) {
    const ready = pending.filter((s) => s.dependsOn.every((d) => done.has(d.step)));
    if (ready.length === 0) throw new PlanError(`workflow has a dependency cycle among ${pending.map((s) => s.name).join(", ")}; validate it with parseWorkflowSpec`);
    for (const s of ready) done.add(s.name);
    ordered.push(...ready);
    pending = pending.filter((s) => !done.has(s.name));
  }
  return ordered;
}

/** A contiguous range of a step's tasks that one job runs. */
export interface Chunk {
  offset: number;
  size: number;
}

/**
 * Splits `width` tasks into as few jobs as Batch allows, of near-equal size. Equal sizes (rather than
 * 10,000 + remainder) keep every chunk of a wide step an array job: 10,001 tasks become 5,001 + 5,000,
 * never 10,000 + a lone job of 1, and two steps of equal width always split the same way (N_TO_N).
 */
export function splitIntoChunks(width: number): Chunk[] {
  const count = Math.ceil(width / MAX_ARRAY_SIZE);
  const base = Math.floor(width / count);
  const larger = width % count;
  const chunks: Chunk[] = [];
  let offset = 0;
  for (let k = 0; k < count; k++) {
    const size = base + (k < larger ? 1 : 0);
    chunks.push({ offset, size });
    offset += size;
  }
  return chunks;
}

/** A barrier job before it becomes a {@link PlannedJob}. */
export interface BarrierNode {
  id: string;
  dependsOn: PlannedDependency[];
}

/**
 * Collapses `deps` until at most `slots` remain, with levels of barrier jobs that each wait on at most 20.
 * Built once per step, so all chunks of a step share one tree.
 *
 * Each barrier turns up to 20 dependencies into 1, so at least ceil((n - slots) / 19) are needed. When
 * that many fit in one level (they do while it is at most `slots`), the last level builds exactly that
 * many and leaves the other dependencies direct; below it, levels are full barriers of 20 and pass the
 * remainder up. No barrier waits on a single job. The tree is at most one level deeper than a full
 * 20-ary tree over the same dependencies (a level of barriers costs one more scheduling round).
 */
export function collapseDependencies(step: string, deps: PlannedDependency[], slots: number): { jobs: BarrierNode[]; roots: PlannedDependency[] } {
  if (deps.length > 0 && slots < 1) throw new PlanError(`step \`${step}\`: no dependency slot left for plain dependencies`);
  const jobs: BarrierNode[] = [];
  let current = deps;
  for (let level = 1; current.length > slots; level++) {
    const needed = Math.ceil((current.length - slots) / (MAX_DEPENDENCIES_PER_JOB - 1));
    // Last level: `needed` barriers absorb just enough (n - slots + needed) that the rest plus them fit.
    // Otherwise: as many full barriers as there are, the remainder passed through to the next level.
    const sizes =
      needed <= slots
        ? splitEvenly(current.length - slots + needed, needed)
        : Array.from({ length: Math.floor(current.length / MAX_DEPENDENCIES_PER_JOB) }, () => MAX_DEPENDENCIES_PER_JOB);
    const next: PlannedDependency[] = [];
    let taken = 0;
    sizes.forEach((size, i) => {
      const id = `${step}-b${level}-${i}`;
      jobs.push({ id, dependsOn: current.slice(taken, taken + size) });
      next.push({ id });
      taken += size;
    });
    current = [...next, ...current.slice(taken)];
  }
  return { jobs, roots: current };
}

/** `total` split into `parts` sizes differing by at most one, larger first. */
function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

/**
 * What the planner tells every task of a step besides the input object, as environment variables and as
 * the same-valued `Ref::` parameters: the step, its width, the job's first task, the run's output prefix
 * (when the stack's output root is known) and, for chunked steps, the bytes per task.
 */
function taskVariables(step: StepSpec, chunk: Chunk, width: number, ctx: PlanContext): { name: string; parameter: string; value: string }[] {
  const variables: { name: string; parameter: string; value: string }[] = [
    { name: TASK_ENV.step, parameter: TASK_PARAMETERS.step, value: step.name },
    { name: TASK_ENV.taskCount, parameter: TASK_PARAMETERS.taskCount, value: String(width) },
    { name: TASK_ENV.arrayOffset, parameter: TASK_PARAMETERS.arrayOffset, value: String(chunk.offset) },
  ];
  if (ctx.outputRoot !== undefined) {
    variables.push({ name: TASK_ENV.outputPrefix, parameter: TASK_PARAMETERS.outputPrefix, value: runOutputPrefix(ctx.outputRoot, ctx.runId) });
  }
  if ("perChunkBytes" in step.width) {
    variables.push({ name: TASK_ENV.chunkBytes, parameter: TASK_PARAMETERS.chunkBytes, value: String(chunkBytesOf(step.width.perChunkBytes, ctx.input.sizeBytes, width)) });
  }
  return variables;
}

/** A step's overrides of its definition's resources (`vcpus`, `memoryMiB`, `gpus`), as SubmitJob takes them. */
function resourceOverrides(step: StepSpec): Pick<ContainerOverrides, "resourceRequirements"> {
  // Type-only import of the SDK: the planner loads at preview and in `batch-pipeline plan` without it.
  const requirements: ResourceRequirement[] = [
    ...(step.vcpus !== undefined ? [{ type: "VCPU" as const, value: String(step.vcpus) }] : []),
    ...(step.memoryMiB !== undefined ? [{ type: "MEMORY" as const, value: String(step.memoryMiB) }] : []),
    ...(step.gpus !== undefined ? [{ type: "GPU" as const, value: String(step.gpus) }] : []),
  ];
  return requirements.length > 0 ? { resourceRequirements: requirements } : {};
}

function taskJob(step: StepSpec, id: string, chunk: Chunk, width: number, dependsOn: PlannedDependency[], ctx: PlanContext, tags: Record<string, string>): PlannedJob {
  const jobDefinition = lookupJobDefinition(ctx, step.jobDefinition, `step \`${step.name}\``);
  const variables = taskVariables(step, chunk, width, ctx);
  const pipelineParameters: Record<string, string> = {
    ...inputParameters(ctx.input, ctx.runId),
    ...Object.fromEntries(variables.map((v) => [v.parameter, v.value])),
  };
  const environment: KeyValuePair[] = [
    ...inputEnvironment(ctx.input, ctx.runId),
    ...variables.map(({ name, value }) => ({ name, value })),
    ...Object.entries(step.environment ?? {}).map(([name, value]) => ({ name, value })),
  ];
  // A step without a command runs its job definition's: Batch uses the definition's when the override has none.
  const containerOverrides: ContainerOverrides = { environment, ...(step.command ? { command: [...step.command] } : {}), ...resourceOverrides(step) };
  return {
    id,
    step: step.name,
    kind: "task",
    taskOffset: chunk.offset,
    taskCount: chunk.size,
    dependsOn,
    request: {
      jobName: `${runJobNamePrefix(ctx.runId)}${id}`,
      jobQueue: ctx.jobQueue,
      jobDefinition,
      ...(chunk.size > 1 ? { arrayProperties: { size: chunk.size } } : {}),
      parameters: { ...step.parameters, ...pipelineParameters },
      containerOverrides,
      ...(step.timeoutSeconds !== undefined ? { timeout: { attemptDurationSeconds: step.timeoutSeconds } } : {}),
      tags: { ...tags, [TAG_KEYS.step]: sanitizeTagValue(step.name) },
      propagateTags: true,
    },
  };
}

function barrierJob(node: BarrierNode, step: string, ctx: PlanContext, tags: Record<string, string>): PlannedJob {
  const jobDefinition = lookupJobDefinition(
    ctx,
    BARRIER_JOB_DEFINITION_KEY,
    `step \`${step}\` waits on more than ${MAX_DEPENDENCIES_PER_JOB} jobs, so it needs barrier jobs, but`,
  );
  return {
    id: node.id,
    step,
    kind: "barrier",
    taskOffset: 0,
    taskCount: 1,
    dependsOn: node.dependsOn,
    request: {
      jobName: `${runJobNamePrefix(ctx.runId)}${node.id}`,
      jobQueue: ctx.jobQueue,
      jobDefinition,
      containerOverrides: {
        command: [...BARRIER_COMMAND],
        environment: [
          { name: START_JOB_ENV.runId, value: ctx.runId },
          { name: TASK_ENV.step, value: step },
        ],
      },
      tags: { ...tags, [TAG_KEYS.step]: sanitizeTagValue(step) },
      propagateTags: true,
    },
  };
}

function lookupJobDefinition(ctx: PlanContext, key: string, who: string): string {
  const name = Object.hasOwn(ctx.jobDefinitions, key) ? ctx.jobDefinitions[key] : undefined;
  if (!name) {
    throw new PlanError(`${who} job definition key \`${key}\` is not in the job definitions map (known: ${Object.keys(ctx.jobDefinitions).join(", ") || "none"})`);
  }
  return name;
}

function buildTags(ctx: PlanContext): Record<string, string> {
  const extra = ctx.tags ?? {};
  // The pipeline's own keys (set below) replace the caller's, as they always have.
  const problems = tagProblems(extra, { pipelineKeys: "allow" });
  // IAM compares the tag with the stack's id exactly, so a value that sanitising would change is an error.
  if (ctx.stack.length === 0 || !isTagValue(ctx.stack)) {
    problems.push(`stack \`${ctx.stack}\` must be an AWS tag value: 1 to ${MAX_TAG_VALUE_CHARS} letters, digits, spaces and _ . : / = + - @`);
  }
  if (problems.length > 0) throw new PlanError(problems.join("; "));
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra)) tags[key] = sanitizeTagValue(value);
  tags[TAG_KEYS.runId] = ctx.runId;
  tags[TAG_KEYS.bucket] = sanitizeTagValue(ctx.input.bucket);
  tags[TAG_KEYS.key] = sanitizeTagValue(ctx.input.key);
  tags[TAG_KEYS.stack] = ctx.stack;
  // The step tag is added by each job.
  return tags;
}

function checkRequest(job: PlannedJob): void {
  const problem = requestProblem(job);
  if (problem) throw new PlanError(problem);
}
