/**
 * What `plan` and `run` work on: the stack chosen by `--stack` or `BATCH_PIPELINE_STACK`, checked as
 * `validate` checks it, or the default config ({@link planTarget}); the names the start job would get from
 * it (the deployed ones from a saved outputs file, else stand-ins); the orchestrator's plan for an input
 * ({@link plannedRun}); and why the trigger would start no run for a key ({@link ignoredBecause}).
 */
import { keyRejection, keyRejectionRule } from "../../contract";
import { parsePipelineConfig, type PipelineConfig } from "../../stack/config";
import { resourcePrefix } from "../../stack/naming";
import { definitionKeys, triggerKeyFilter } from "../../stack/model";
import { PlanError, planWorkflow, type Plan } from "../../workflow/planner";
import { CLI_EXIT, CliError } from "../app/errors";
import { fmtInt, terminalText } from "../app/format";
import type { CommandSetup } from "../app/setup";
import { checkStack, uncheckedNote } from "./configCheck";
import { loadDeployedStack, type StackOutputs } from "./outputs";
import { findProject, readStackConfig, StackFileError, stackNames } from "../../stack/project";

/** Without a stack: a clearly fake bucket and stack id. */
const DEFAULTS = { bucket: "example-input-bucket", stack: "example-stack" } as const;

/**
 * Which config a target is: a stack's file and what chose it, or the defaults (no stack chosen) and the
 * stacks there were to choose from (`run` says which in its header: with two stack files and no
 * `--stack`, the defaults are used, which is easy to miss).
 */
export type ConfigSource = { stack: string; file: string; chosenBy: "--stack" | "BATCH_PIPELINE_STACK" } | { stack?: undefined; stacks: string[] };

/** What the plan is of: the config, the stack's id and names, and which of them are placeholders (`plan` and `run`). */
export interface Target {
  what: string;
  source: ConfigSource;
  config: PipelineConfig;
  stackId: string;
  outputs?: StackOutputs;
  bucket: string;
  /** The stack's `aws:region`, when it sets one. */
  region?: string;
}

/**
 * The stack chosen by `--stack` or `BATCH_PIPELINE_STACK`, checked as `validate` checks it, or the
 * default config. Never the global stack choice of the other commands: with several stack files and none
 * chosen, the plan is the defaults', not an error. Prints the problems and returns undefined when the
 * stack does not validate.
 */
export async function planTarget(setup: CommandSetup): Promise<Target | undefined> {
  const { ctx } = setup;
  const globals = setup.globals();
  const stack = globals.stack ?? ctx.env.BATCH_PIPELINE_STACK;
  if (!stack) {
    const source = { stacks: stacksAround(ctx.cwd) };
    return { what: "the default config", source, config: parsePipelineConfig({}), stackId: DEFAULTS.stack, bucket: globals.bucket ?? DEFAULTS.bucket };
  }
  const project = findProject(ctx.cwd);
  const check = checkStack(project, stack);
  const note = uncheckedNote(check);
  if (note) ctx.term.err(`${ctx.term.color.yellow("warning:")} ${note}\n`);
  if (!check.valid) {
    const n = check.problems.length;
    ctx.term.err(`${ctx.term.color.red("error:")} stack ${stack} (${check.file}) does not validate (${n} problem${n === 1 ? "" : "s"}), nothing planned:\n`);
    for (const p of check.problems) ctx.term.err(`    ${p.message}\n`);
    return undefined;
  }
  const stackId = resourcePrefix(project.name, stack);
  // Deployed names only from a file given on purpose: plan never asks the Pulumi CLI or AWS.
  const outputs = (globals.outputs ?? ctx.env.BATCH_PIPELINE_OUTPUTS) ? (await loadDeployedStack(globals, ctx)).outputs : undefined;
  const { region } = readStackConfig(project, stack);
  return {
    what: `stack ${stack}`,
    source: { stack, file: check.file, chosenBy: globals.stack !== undefined ? "--stack" : "BATCH_PIPELINE_STACK" },
    config: check.config!,
    stackId,
    bucket: outputs?.inputBucketName ?? globals.bucket ?? `${stackId}-input`,
    ...(outputs ? { outputs } : {}),
    ...(region ? { region } : {}),
  };
}

/** The stacks with a config file in the project around `cwd`; none outside a project. */
function stacksAround(cwd: string): string[] {
  try {
    return stackNames(findProject(cwd));
  } catch (error) {
    if (error instanceof StackFileError) return [];
    throw error;
  }
}

/** Why the trigger would ignore `key` (of `sizeBytes`, when known), or undefined when it runs (contract/trigger.ts). */
export function ignoredBecause(key: string, sizeBytes: number | undefined, trigger: PipelineConfig["trigger"]): string | undefined {
  const filter = triggerKeyFilter(trigger);
  const rejected = keyRejection(key, sizeBytes, filter);
  return rejected && keyRejectionRule(rejected, filter);
}

/** Job definition key → the name the start job submits with: the deployed one from outputs, else the key itself. */
export function jobDefinitionNames(target: Pick<Target, "config" | "outputs">): Record<string, string> {
  const keys = definitionKeys(target.config);
  return { ...Object.fromEntries(keys.map((k) => [k, k])), ...target.outputs?.jobDefinitionNames };
}

/** The orchestrator's plan for `input`, with the names the start job gets from the stack (or their stand-ins). */
export function plannedRun(target: Target, input: Plan["input"], runId: string, processQueue: string | undefined): Plan {
  const { config, outputs } = target;
  const jobDefinitions = jobDefinitionNames(target);
  try {
    return planWorkflow(config.workflow, {
      runId,
      input,
      jobDefinitions,
      jobQueue: outputs?.processQueueArn ?? processQueue ?? config.processQueue,
      stack: target.stackId,
      tags: config.tags,
      outputRoot: config.trigger.outputPrefix,
    });
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    throw new CliError(`cannot plan ${target.what} for s3://${input.bucket}/${terminalText(input.key)} (${fmtInt(input.sizeBytes)} bytes): ${error.message}`, CLI_EXIT.failed);
  }
}
