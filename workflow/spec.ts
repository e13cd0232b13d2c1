/**
 * The workflow spec: which steps a run has, how wide each one is and what it waits for.
 *
 * Pure (zod only): `infra/` validates the stack's workflow with {@link parseWorkflowSpec} so a bad
 * spec fails at `pulumi preview`, and the start job validates it again before planning. What the planner
 * needs besides the spec's types (a step's width, Batch's dependency limit) lives without zod in
 * `width.ts` and `requestLimits.ts`: the planner is serialized by value.
 */
import { z } from "zod";
import { decodeWorkflow, START_JOB_ENV, START_JOB_PARAMETERS, TASK_ENV, TASK_PARAMETERS } from "../contract";
import { MAX_DEPENDENCIES_PER_JOB } from "./requestLimits";
import { MAX_STEP_WIDTH, type WidthSpec } from "./width";

/** Step names end up inside Batch job names (`${runId}-${step}-p${k}`), so they are short and job-name safe. */
export const STEP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/**
 * The planner appends these suffixes to step names; a step called like one of them could collide with
 * another step's chunk or barrier job, and job names are how a retried start job recognises its DAG.
 */
const RESERVED_STEP_SUFFIX = /-(p\d+|b\d+-\d+)$/i;

/** Batch forbids environment variables starting with `AWS_BATCH`; the orchestrator owns `PIPELINE_`. */
export const RESERVED_ENV_PREFIXES = ["AWS_BATCH", "PIPELINE_"] as const;

/** Parameters the planner always sets, for `Ref::` substitution in commands (contract/env.ts). */
export const RESERVED_PARAMETERS: readonly string[] = [...Object.values(START_JOB_PARAMETERS), ...Object.values(TASK_PARAMETERS)];

/** Environment variable names, as steps and job definitions take them. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const positiveInt = (what: string) =>
  z.int(`${what} must be an integer`).min(1, `${what} must be at least 1`).max(MAX_STEP_WIDTH, `${what} must be at most ${MAX_STEP_WIDTH}`);

const widthSchema = z
  .strictObject({
    fixed: positiveInt("`width.fixed`").optional(),
    perChunkBytes: z.int("`width.perChunkBytes` must be an integer").min(1, "`width.perChunkBytes` must be at least 1").optional(),
    min: positiveInt("`width.min`").optional(),
    max: positiveInt("`width.max`").optional(),
  })
  .superRefine((w, ctx) => {
    if ((w.fixed === undefined) === (w.perChunkBytes === undefined)) {
      ctx.addIssue({ code: "custom", message: "`width` needs exactly one of `fixed` or `perChunkBytes`" });
    } else if (w.fixed !== undefined && (w.min !== undefined || w.max !== undefined)) {
      ctx.addIssue({ code: "custom", message: "`width.min`/`width.max` only apply with `perChunkBytes`" });
    } else if (w.min !== undefined && w.max !== undefined && w.min > w.max) {
      ctx.addIssue({ code: "custom", message: `\`width.min\` (${w.min}) cannot exceed \`width.max\` (${w.max})` });
    }
  })
  .transform((w): WidthSpec => (w.fixed !== undefined ? { fixed: w.fixed } : { perChunkBytes: w.perChunkBytes!, min: w.min, max: w.max }));

/** A dependency on another step. */
export type DependencySpec = {
  step: string;
  /**
   * `N_TO_N`: task i waits only for task i of `step` (both steps must have the same width).
   * @default a plain dependency: every task waits for all of `step`'s tasks
   */
  type?: "N_TO_N";
};

const dependencySchema = z
  .union([z.string(), z.strictObject({ step: z.string(), type: z.literal("N_TO_N", "`type` must be \"N_TO_N\" or left out").optional() })], {
    error: "each `dependsOn` entry must be a step name or `{ step, type?: \"N_TO_N\" }`",
  })
  .transform((d): DependencySpec => (typeof d === "string" ? { step: d } : d));

const stringRecord = (what: string, keyPattern?: RegExp) =>
  z.record(
    keyPattern ? z.string().regex(keyPattern, `${what} names must match ${keyPattern}`) : z.string().min(1, `${what} names cannot be empty`),
    z.string(`${what} values must be strings`),
  );

const stepSchema = z.strictObject({
  name: z.string("`name` must be a string").regex(STEP_NAME_PATTERN, `\`name\` must match ${STEP_NAME_PATTERN} (at most 32 characters, job-name safe)`),
  jobDefinition: z.string("`jobDefinition` must be a job definition key").min(1, "`jobDefinition` cannot be empty"),
  command: z.array(z.string()).min(1, "`command` cannot be empty; leave it out to use the job definition's").optional(),
  environment: stringRecord("`environment`", ENV_NAME).optional(),
  parameters: stringRecord("`parameters`").optional(),
  dependsOn: z.array(dependencySchema).optional(),
  width: widthSchema.optional(),
  // What SubmitJob lets a submission override besides command, environment and parameters
  // (ContainerOverrides.resourceRequirements, SubmitJob's timeout; Batch API reference). Batch's
  // platform rules on them (Fargate sizes, no GPUs on Fargate) need the definition: stack/config checks them.
  vcpus: z.number("`vcpus` must be a number").positive("`vcpus` must be greater than 0").optional(),
  memoryMiB: z.int("`memoryMiB` must be a whole number of MiB").min(4, "`memoryMiB` must be at least 4 (Batch's minimum)").optional(),
  gpus: z.int("`gpus` must be a whole number").min(1, "`gpus` must be at least 1").optional(),
  timeoutSeconds: z.int("`timeoutSeconds` must be a whole number of seconds").min(60, "`timeoutSeconds` must be at least 60 (Batch's minimum)").optional(),
});

const workflowSchema = z.strictObject(
  { steps: z.array(stepSchema, "`steps` must be an array").min(1, "`steps` needs at least one step") },
  "the workflow must be an object `{ steps: [...] }`",
);

/** One step of a workflow, as written by its author (before validation and defaults). */
export type StepSpecInput = z.input<typeof stepSchema>;
/** A workflow as written by its author, e.g. in Pulumi stack config. */
export type WorkflowSpecInput = z.input<typeof workflowSchema>;

/** A validated step: dependencies normalised to objects, width always present. */
export interface StepSpec {
  name: string;
  /** Key into the job definitions map (`PIPELINE_JOB_DEFINITIONS`), not a job definition name. */
  jobDefinition: string;
  /** @default the job definition's command */
  command?: string[];
  /** Extra environment; names starting with `AWS_BATCH` or `PIPELINE_` are reserved. */
  environment?: Record<string, string>;
  /** Extra Batch parameters for `Ref::` substitution; {@link RESERVED_PARAMETERS} are reserved. */
  parameters?: Record<string, string>;
  dependsOn: DependencySpec[];
  /** @default { fixed: 1 } */
  width: WidthSpec;
  /** vCPUs per task, overriding the job definition's. @default the definition's */
  vcpus?: number;
  /** Memory per task in MiB, overriding the job definition's. @default the definition's */
  memoryMiB?: number;
  /** GPUs per task (EC2 only), overriding the job definition's. @default the definition's */
  gpus?: number;
  /** Per attempt, overriding the job definition's timeout (at least 60). @default the definition's */
  timeoutSeconds?: number;
}

/** A validated workflow: steps in the author's order, acyclic, every reference resolved. */
export interface WorkflowSpec {
  steps: StepSpec[];
}

/** A workflow spec broke a rule. `issues` lists every problem; the message joins them. */
export class WorkflowSpecError extends Error {
  override readonly name = "WorkflowSpecError";
  constructor(readonly issues: readonly string[]) {
    super(issues.length === 1 ? issues[0] : `${issues.length} problems in the workflow spec:\n- ${issues.join("\n- ")}`);
  }
}

/** Options of {@link parseWorkflowSpec}. */
export interface ParseWorkflowSpecOptions {
  /**
   * Job definition keys that exist; every step's `jobDefinition` must be one of them.
   * @default no check (infra may validate the spec before the job definitions exist)
   */
  jobDefinitionKeys?: readonly string[];
}

/**
 * Validates a workflow spec (a parsed JSON value or an object from stack config).
 * @throws {WorkflowSpecError} naming the step and the rule for every problem found.
 */
export function parseWorkflowSpec(input: unknown, opts: ParseWorkflowSpecOptions = {}): WorkflowSpec {
  const parsed = workflowSchema.safeParse(input);
  if (!parsed.success) {
    throw new WorkflowSpecError(parsed.error.issues.map((issue) => formatIssue(issue, input)));
  }
  const spec: WorkflowSpec = {
    steps: parsed.data.steps.map((s) => ({ ...s, dependsOn: s.dependsOn ?? [], width: s.width ?? { fixed: 1 } })),
  };
  const issues = checkSemantics(spec, opts);
  if (issues.length > 0) throw new WorkflowSpecError(issues);
  return spec;
}

/** Parses the JSON text of a workflow (as found in `PIPELINE_WORKFLOW`). */
export function parseWorkflowSpecJson(json: string, opts: ParseWorkflowSpecOptions = {}): WorkflowSpec {
  const decoded = decodeWorkflow(json);
  if (!decoded.ok) throw new WorkflowSpecError([`workflow: not valid JSON (${decoded.message})`]);
  return parseWorkflowSpec(decoded.value, opts);
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const message = issueMessage(issue);
  const [top, index, ...rest] = issue.path;
  if (top === "steps" && typeof index === "number") {
    const step = (input as { steps: unknown[] }).steps[index] as { name?: unknown } | undefined;
    const who = typeof step?.name === "string" && step.name !== "" ? `\`${step.name}\`` : `#${index + 1}`;
    // Most messages already name their field; add the path only when they do not (e.g. `dependsOn.2`).
    const path = rest.join(".");
    const where = path !== "" && !message.includes(`\`${path}`) ? `\`${path}\`: ` : "";
    return `workflow step ${who}: ${where}${message}`;
  }
  const where = issue.path.length > 0 && !message.includes(`\`${issue.path.join(".")}`) ? `\`${issue.path.join(".")}\`: ` : "";
  return `workflow: ${where}${message}`;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")}`;
    case "invalid_key":
      return issue.issues[0]?.message ?? issue.message;
    default:
      return issue.message;
  }
}

function checkSemantics(spec: WorkflowSpec, opts: ParseWorkflowSpecOptions): string[] {
  const issues: string[] = [];
  const byName = new Map(spec.steps.map((s) => [s.name, s]));
  const stepList = spec.steps.map((s) => s.name).join(", ");
  const seen = new Set<string>();
  const knownDefinitions = opts.jobDefinitionKeys && new Set(opts.jobDefinitionKeys);

  for (const step of spec.steps) {
    const at = `workflow step \`${step.name}\``;
    // Case-insensitive, because Batch's JOB_NAME filter (how a retried start job finds its DAG) is.
    const folded = step.name.toLowerCase();
    if (seen.has(folded)) issues.push(`${at}: duplicate step name (names must be unique, ignoring case)`);
    seen.add(folded);
    if (RESERVED_STEP_SUFFIX.test(step.name)) {
      issues.push(`${at}: name cannot end in \`-p<n>\` or \`-b<n>-<n>\`; those suffixes name chunk and barrier jobs`);
    }
    if (knownDefinitions && !knownDefinitions.has(step.jobDefinition)) {
      issues.push(`${at}: jobDefinition \`${step.jobDefinition}\` is not a known job definition key (known: ${[...knownDefinitions].join(", ") || "none"})`);
    }
    for (const name of Object.keys(step.environment ?? {})) {
      const prefix = RESERVED_ENV_PREFIXES.find((p) => name.toUpperCase().startsWith(p));
      if (prefix) issues.push(`${at}: environment variable \`${name}\` is reserved (names starting with \`${prefix}\` are set by Batch or the orchestrator)`);
    }
    const shellProblem = step.command && shellPlaceholderProblem(step.command);
    if (shellProblem) issues.push(`${at}: command ${shellProblem}`);
    for (const name of Object.keys(step.parameters ?? {})) {
      if (RESERVED_PARAMETERS.includes(name)) {
        issues.push(`${at}: parameter \`${name}\` is reserved (the orchestrator sets ${RESERVED_PARAMETERS.join(", ")})`);
      }
    }
    issues.push(...checkDependencies(step, byName, stepList).map((rule) => `${at}: ${rule}`));
  }
  if (issues.length === 0) {
    const cycle = findCycle(spec);
    if (cycle) issues.push(`workflow step \`${cycle[0]}\`: dependency cycle ${cycle.join(" → ")}`);
  }
  return issues;
}

function checkDependencies(step: StepSpec, byName: Map<string, StepSpec>, stepList: string): string[] {
  const issues: string[] = [];
  const listed = new Set<string>();
  for (const dep of step.dependsOn) {
    if (listed.has(dep.step)) issues.push(`dependsOn \`${dep.step}\` is listed twice`);
    listed.add(dep.step);
    const target = byName.get(dep.step);
    if (!target) {
      issues.push(`dependsOn \`${dep.step}\` is not a step (steps: ${stepList})`);
    } else if (dep.type === "N_TO_N" && !sameWidth(step.width, target.width)) {
      issues.push(
        `N_TO_N dependency on \`${dep.step}\` needs both steps to have the same width, ` +
          `but \`${step.name}\` has ${describeWidth(step.width)} and \`${dep.step}\` has ${describeWidth(target.width)}`,
      );
    }
  }
  // N_TO_N edges cannot go through a plain barrier job, so they need their own slots in `dependsOn`;
  // all plain dependencies together need at most one (a barrier tree collapses them).
  const nToN = step.dependsOn.filter((d) => d.type === "N_TO_N").length;
  const needed = nToN + (nToN < step.dependsOn.length ? 1 : 0);
  if (needed > MAX_DEPENDENCIES_PER_JOB) {
    issues.push(`${nToN} N_TO_N dependencies exceed Batch's limit of ${MAX_DEPENDENCIES_PER_JOB} dependencies per job (plain dependencies need one more slot)`);
  }
  return issues;
}

/** Widths are provably equal for every input only when both are the same fixed number or the same formula. */
function sameWidth(a: WidthSpec, b: WidthSpec): boolean {
  if ("fixed" in a || "fixed" in b) return "fixed" in a && "fixed" in b && a.fixed === b.fixed;
  return a.perChunkBytes === b.perChunkBytes && (a.min ?? 1) === (b.min ?? 1) && (a.max ?? MAX_STEP_WIDTH) === (b.max ?? MAX_STEP_WIDTH);
}

function describeWidth(w: WidthSpec): string {
  if ("fixed" in w) return `width ${w.fixed}`;
  return `width per ${w.perChunkBytes} bytes in [${w.min ?? 1}, ${w.max ?? MAX_STEP_WIDTH}]`;
}

/** Depth-first search; returns the first cycle as a path that starts and ends on the same step. */
function findCycle(spec: WorkflowSpec): string[] | undefined {
  const deps = new Map(spec.steps.map((s) => [s.name, s.dependsOn.map((d) => d.step)]));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "visiting");
    path.push(name);
    for (const dep of deps.get(name) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const step of spec.steps) {
    const cycle = visit(step.name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * The original proof of concept's shape: `prepare` (1 task), then `width` parallel `process` tasks, then
 * `merge` (1 task) once all of them are done. No step sets a command, so every task runs the job
 * definition's own: set `jobDefinitions.process.command` and the default workflow runs it.
 */
export function defaultWorkflow(width = 3, jobDefinitionKey = "process"): WorkflowSpec {
  return parseWorkflowSpec({
    steps: [
      { name: "prepare", jobDefinition: jobDefinitionKey },
      { name: "process", jobDefinition: jobDefinitionKey, dependsOn: ["prepare"], width: { fixed: width } },
      { name: "merge", jobDefinition: jobDefinitionKey, dependsOn: ["process"] },
    ],
  });
}

/** {@link defaultWorkflow} with its defaults: prepare → 3 × process → merge. */
export const DEFAULT_WORKFLOW: WorkflowSpec = defaultWorkflow();

// ---- inputs never reach a shell ----

/**
 * Programs that run their `-c` argument as shell code: POSIX shells and their relatives (by base name, so
 * `/bin/sh` and `/usr/bin/bash` count too). `env` and `busybox` in front of one are seen through.
 */
export const SHELL_PROGRAMS: readonly string[] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "pdksh", "yash", "posh", "fish", "csh", "tcsh"];

/** The environment variable that carries each pipeline parameter's value (contract/env.ts): what a script reads instead. */
const PARAMETER_VARIABLES: Readonly<Record<string, string>> = {
  [START_JOB_PARAMETERS.runId]: START_JOB_ENV.runId,
  [START_JOB_PARAMETERS.bucket]: START_JOB_ENV.bucket,
  [START_JOB_PARAMETERS.key]: START_JOB_ENV.key,
  [START_JOB_PARAMETERS.versionId]: START_JOB_ENV.versionId,
  [START_JOB_PARAMETERS.size]: START_JOB_ENV.size,
  [TASK_PARAMETERS.step]: TASK_ENV.step,
  [TASK_PARAMETERS.taskCount]: TASK_ENV.taskCount,
  [TASK_PARAMETERS.arrayOffset]: TASK_ENV.arrayOffset,
  [TASK_PARAMETERS.chunkBytes]: TASK_ENV.chunkBytes,
  [TASK_PARAMETERS.outputPrefix]: TASK_ENV.outputPrefix,
};

const baseName = (program: string) => program.slice(program.lastIndexOf("/") + 1);

/** The index of the shell program in `command` (0, or after `env [options] [NAME=value]…` / `busybox`), or -1. */
function shellIndex(command: readonly string[]): number {
  let i = 0;
  for (;;) {
    const program = command[i];
    if (program === undefined) return -1;
    const name = baseName(program);
    if (SHELL_PROGRAMS.includes(name)) return i;
    if (name === "busybox") {
      i += 1;
    } else if (name === "env") {
      i += 1;
      // env's own options (-i, -u NAME, --unset=NAME, -) and NAME=value assignments come before the program.
      while (command[i] !== undefined && (command[i]!.startsWith("-") || /^[^=]+=/.test(command[i]!))) {
        i += command[i] === "-u" || command[i] === "-C" ? 2 : 1;
      }
    } else {
      return -1;
    }
  }
}

/**
 * The index of the script a shell command runs (`sh -c SCRIPT`, `bash -ec SCRIPT`, `bash -o pipefail -c
 * SCRIPT`, `env bash -xc SCRIPT`…), or undefined when `command` runs no shell with `-c`.
 */
export function shellScriptIndex(command: readonly string[]): number | undefined {
  const shell = shellIndex(command);
  if (shell < 0) return undefined;
  let withC = false;
  let i = shell + 1;
  for (; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === "--" || arg === "-") {
      i += 1;
      break;
    }
    if (!/^[-+]/.test(arg)) break;
    if (arg.startsWith("--")) continue; // bash's long options (--norc, --login) take no value
    const letters = arg.slice(1);
    if (letters.includes("c")) withC = true;
    // -o NAME and -O NAME (bash's shopt) take the next argument.
    if (/[oO]$/.test(letters)) i += 1;
  }
  return withC && i < command.length ? i : undefined;
}

/**
 * The rule that keeps the input object's data out of shell code: a command that runs a shell with `-c`
 * may not hold a `Ref::` placeholder in its script. Batch substitutes a parameter into the command as
 * text, so `sh -c "cat Ref::key"` with a key like `data$(id).csv` runs `id` (in the job's role). Every
 * placeholder is refused, not only those the object fills (key, bucket, versionId, size): one rule with
 * no list to keep up to date, and each has a safe way: as its own argument after the script
 * (`sh -c 'cat "$1"' sh Ref::key`), or from the environment, quoted (`"$PIPELINE_INPUT_KEY"`).
 * @returns the rule broken, naming the argument (from 0) and the way out, or undefined.
 */
export function shellPlaceholderProblem(command: readonly string[]): string | undefined {
  const index = shellScriptIndex(command);
  if (index === undefined) return undefined;
  const script = command[index]!;
  const match = /Ref::([A-Za-z0-9_.-]*)/.exec(script);
  if (!match) return undefined;
  const placeholder = match[0];
  const variable = PARAMETER_VARIABLES[match[1]!];
  const shell = command.slice(0, index).join(" ");
  return (
    `argument ${index} (${JSON.stringify(script)}) puts ${placeholder} inside the script of \`${shell}\`: Batch substitutes parameters as text, ` +
    `so an object key like data$(id).csv would run as shell code; pass it as its own argument after the script ` +
    `(sh -c 'cat "$1"' sh ${placeholder})${variable ? ` or read "$${variable}" quoted` : ""}`
  );
}

/**
 * The `Ref::` placeholders of `command` that none of `names` fills, each once, in order of appearance.
 * Batch leaves such a placeholder in the command as it is (a typo like `Ref::mdoe` reaches the program
 * as the literal text); known names are matched longest first, as Batch substitutes them.
 */
export function unfilledPlaceholders(command: readonly string[], names: readonly string[]): string[] {
  const rest = substituteParameters(command, Object.fromEntries(names.map((name) => [name, ""])));
  const left = new Set<string>();
  for (const arg of rest) for (const m of arg.matchAll(/Ref::([A-Za-z0-9_]*)/g)) left.add(`Ref::${m[1]}`);
  return [...left];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * `command` with every `Ref::name` of a known parameter replaced by its value, wherever it occurs in an
 * argument; placeholders of unknown parameters stay as they are (Batch leaves them). One pass, longest
 * names first, so a value is never substituted again and `Ref::keyPrefix` is not read as `Ref::key`.
 * What `batch-pipeline run` does to a task's command (cli/run/environment.ts).
 */
export function substituteParameters(command: readonly string[], parameters: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(parameters).sort((a, b) => b.length - a.length);
  if (names.length === 0) return [...command];
  const pattern = new RegExp(`Ref::(${names.map(escapeRegExp).join("|")})`, "g");
  return command.map((arg) => arg.replace(pattern, (_, name: string) => parameters[name]!));
}
