/**
 * `batch-pipeline plan [--stack NAME] [--size BYTES] [--key KEY] [--format tree|json|mermaid]`: the
 * stack's own workflow (the defaults' without a stack) planned by the orchestrator's planner for a
 * sample object, offline. The run id is the trigger's for that object; names come from the stack where
 * they can be derived (its id, tags, trigger prefix), from a saved outputs file when one is given
 * (bucket, queue, job definitions), and are placeholders otherwise.
 */
import { type Command, Option } from "commander";
import { computeRunId } from "../../contract/run";
import { BARRIER_JOB_DEFINITION_KEY, keyRejection, keyRejectionRule, S3_MAX_KEY_BYTES } from "../../contract";
import { parsePipelineConfig, type PipelineConfig } from "../../infra/config";
import { resourcePrefix } from "../../infra/naming";
import { PlanError, planWorkflow, type Plan } from "../../workflow/planner";
import { renderPlanTree } from "../../workflow/render";
import { checkStack, uncheckedNote } from "../stack/configCheck";
import { CLI_EXIT, CliError } from "../app/errors";
import { fmtInt, terminalText } from "../app/format";
import { loadDeployedStack, type StackOutputs } from "../stack/outputs";
import { DEFAULT_SAMPLE_BYTES, parseSize, renderPlanMermaid } from "./graph";
import type { CommandSetup } from "../app/program";
import { findProject, readStackConfig, stackNames } from "../stack/project";

/** S3 object keys are at most 1,024 bytes of UTF-8. */
/** Stands in for the S3 version id an upload gets (the run id depends on it). */
export const SAMPLE_VERSION_ID = "sample-version-id";
/** Without a stack: a clearly fake bucket and stack id. */
const DEFAULTS = { bucket: "example-input-bucket", stack: "example-stack" } as const;

interface PlanOptions {
  size: number;
  key?: string;
  versionId?: string;
  format: "tree" | "json" | "mermaid";
  /** `--json`: `--format json`, the flag every command takes. */
  json?: boolean;
}

/**
 * Which config a target is: a stack's file and what chose it, or the defaults (no stack chosen) and the
 * stacks there were to choose from (`run` says which in its header: with two stack files and no
 * `--stack`, the defaults are used, which is easy to miss).
 */
export type ConfigSource = { stack: string; file: string; chosenBy: "--stack" | "BATCH_PIPELINE_STACK" } | { stack?: undefined; stacks: string[] };

/** What the plan is of: the config, the stack's id and names, and which of them are placeholders (shared with `run`). */
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

export function planCommand(program: Command, setup: CommandSetup): void {
  program
    .command("plan")
    .description("plan the stack's workflow (the default config's without --stack) for a sample input, as the start job would submit it; no AWS, no Pulumi CLI")
    .addOption(new Option("--size <bytes>", "size of the sample input: bytes, or with a unit (500MB, 10GiB)").argParser(parseSize).default(DEFAULT_SAMPLE_BYTES, "1GiB"))
    .option("--key <key>", "key of the sample input (default: <trigger.prefix>sample.bin, or sample<trigger.suffix> with a suffix)")
    .option("--version-id <id>", `its S3 version id, for the run id the trigger gives that version (default: ${SAMPLE_VERSION_ID})`)
    .addOption(new Option("--format <format>", "tree, the plan's JSON, or a Mermaid flowchart").choices(["tree", "json", "mermaid"]).default("tree"))
    .addOption(new Option("--json", "the same as --format json").implies({ format: "json" }))
    .addHelpText(
      "after",
      "\n--stack NAME (a global option, or BATCH_PIPELINE_STACK) plans that stack's workflow, validated first; without it,\n" +
        "the default config's. The bucket, queue and job definitions are the stack's deployed names with --outputs FILE\n" +
        "(or --bucket, --process-queue); otherwise placeholders: <stack prefix>-input, and the config's keys.\n" +
        "Exit codes: 0 planned, 1 the config does not validate or the workflow cannot be planned for this input, 2 usage.",
    )
    .action(
      setup.action(async (options: PlanOptions) => {
        const { ctx } = setup;
        // --json implies --format json; a --format given too wins the implication, so it must say json.
        if (options.json && options.format !== "json") throw new CliError(`--json is --format json: pass one of --json and --format ${options.format}`);
        const target = await planTarget(setup);
        if (!target) return CLI_EXIT.failed;
        const { trigger } = target.config;
        const key = options.key ?? `${trigger.prefix}sample${trigger.suffix || ".bin"}`;
        const keyBytes = Buffer.byteLength(key);
        if (keyBytes < 1 || keyBytes > S3_MAX_KEY_BYTES) throw new CliError(`--key is ${keyBytes} bytes: S3 object keys are 1 to ${S3_MAX_KEY_BYTES} bytes of UTF-8`);
        const ignored = ignoredBecause(key, options.size, trigger);
        if (ignored) ctx.term.err(`${ctx.term.color.yellow("note:")} the trigger starts no run for ${terminalText(JSON.stringify(key))}: ${ignored}\n`);
        const versionId = options.versionId ?? SAMPLE_VERSION_ID;
        const input = { bucket: target.bucket, key, versionId, sizeBytes: options.size };
        const plan = plannedRun(target, input, await computeRunId(input), setup.globals().processQueue);
        if (options.format === "json") ctx.term.out(`${JSON.stringify(plan)}\n`);
        else if (options.format === "mermaid") ctx.term.out(`${renderPlanMermaid(plan)}\n`);
        else ctx.term.out(`${renderPlanTree(plan)}\n`);
        return CLI_EXIT.ok;
      }),
    );
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
    if (error instanceof CliError) return [];
    throw error;
  }
}

/** Why the trigger would ignore `key` (of `sizeBytes`, when known), or undefined when it runs (contract/trigger.ts). */
export function ignoredBecause(key: string, sizeBytes: number | undefined, trigger: PipelineConfig["trigger"]): string | undefined {
  const rejected = keyRejection(key, sizeBytes, trigger);
  return rejected && keyRejectionRule(rejected, trigger);
}

/** Job definition key → the name the start job submits with: the deployed one from outputs, else the key itself. */
export function jobDefinitionNames(target: Pick<Target, "config" | "outputs">): Record<string, string> {
  const keys = [...Object.keys(target.config.jobDefinitions), BARRIER_JOB_DEFINITION_KEY];
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
