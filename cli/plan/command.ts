/**
 * `batch-pipeline plan [--stack NAME] [--size BYTES] [--key KEY] [--format tree|json|mermaid]`: the
 * stack's own workflow (the defaults' without a stack) planned by the orchestrator's planner for a
 * sample object, offline. The run id is the trigger's for that object; names come from the stack where
 * they can be derived (its id, tags, trigger prefix), from a saved outputs file when one is given
 * (bucket, queue, job definitions), and are placeholders otherwise.
 */
import { type Command, Option } from "commander";
import { computeRunId } from "../../contract/run";
import { AUTO_INLINE_MAX_SUBMIT_JOBS, type OrchestratorMode, runOrchestrator, S3_MAX_KEY_BYTES, triggerMode } from "../../contract";
import { renderPlanTree } from "../../workflow/render";
import { CLI_EXIT, CliError } from "../app/errors";
import { terminalText } from "../app/format";
import type { CommandSetup } from "../app/setup";
import { ignoredBecause, plannedRun, planTarget } from "../stack/target";
import { DEFAULT_SAMPLE_BYTES, parseSize, renderPlanMermaid } from "./graph";

/** S3 object keys are at most 1,024 bytes of UTF-8. */
/** Stands in for the S3 version id an upload gets (the run id depends on it). */
export const SAMPLE_VERSION_ID = "sample-version-id";

interface PlanOptions {
  size: number;
  key?: string;
  versionId?: string;
  format: "tree" | "json" | "mermaid";
  /** `--json`: `--format json`, the flag every command takes. */
  json?: boolean;
}

export function planCommand(program: Command, setup: CommandSetup): void {
  program
    .command("plan")
    .description("plan the stack's workflow (the default config's without --stack) for a sample input, as AWS would submit it (by a start job or the trigger: the last line says which); no AWS, no Pulumi CLI")
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
        else ctx.term.out(`${renderPlanTree(plan)}\n${submittedBy(target.config.orchestrator, plan.jobs.length)}\n`);
        return CLI_EXIT.ok;
      }),
    );
}

/** Who would submit this plan's DAG in AWS, and why (`orchestrator.mode`, contract/orchestration.ts). */
export function submittedBy(orchestrator: { mode: OrchestratorMode; wait: boolean }, submitJobCalls: number): string {
  const mode = triggerMode(orchestrator.mode, orchestrator.wait);
  const who = runOrchestrator(mode, submitJobCalls);
  const why =
    mode === "auto"
      ? `orchestrator.mode auto: ${submitJobCalls} SubmitJob call${submitJobCalls === 1 ? "" : "s"}, ${who === "inline" ? "at most" : "more than"} ${AUTO_INLINE_MAX_SUBMIT_JOBS}`
      : `orchestrator.mode ${orchestrator.mode}${mode !== orchestrator.mode ? " with wait" : ""}`;
  return `submitted by ${who === "inline" ? "the trigger itself, no start job" : "a start job"} (${why})`;
}
