/**
 * `batch-pipeline redrive [--dry-run] [--max N] [--json]`: replays the trigger's dead-letter messages
 * through the trigger function, deleting each only when its replay succeeded (cli/redrive/queue.ts), one
 * line per message and a summary. Exit 0 when every replay succeeded or there was nothing to do, 1 when
 * one failed or a message could not be replayed, 130 on Ctrl-C.
 */
import type { Command } from "commander";
import type { Colors } from "../app/context";
import { awsCall, CLI_EXIT, CliError } from "../app/errors";
import { fmtInt, terminalText } from "../app/format";
import { loadDeployedStack } from "../stack/outputs";
import type { CommandSetup } from "../app/setup";
import { DRY_RUN_VISIBILITY_SECONDS, redrive, type RedriveOutcome } from "./queue";

interface RedriveOptions {
  dryRun?: boolean;
  max?: string;
  json?: boolean;
}

/** Long errors are cut in text output; `--json` keeps them whole. */
const MAX_DETAIL_CHARS = 240;
/** An error or detail from the message or the Lambda (a decoded S3 key may be in it): shortened and escaped. */
const cut = (s: string) => terminalText(s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS - 1)}…` : s);

function parseMax(value: string | undefined): number {
  if (value === undefined) return Infinity;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`--max ${value}: must be a whole number of messages, at least 1`);
  return n;
}

/** `s3://b/k (version v)` for each object of the message, or what the body is. */
function what(outcome: RedriveOutcome): string {
  // Everything here comes from the dead-lettered message (a forged event's too): escaped, as the key is.
  const objects = outcome.message.objects.map((o) => terminalText(`s3://${o.bucket}/${o.key}${o.versionId ? ` (version ${o.versionId})` : ""}`));
  return objects.length > 0 ? objects.join(", ") : "no S3 object in the event";
}

/** One line per message: what happened, which message and object, how often it was received, and the error. */
export function outcomeLine(outcome: RedriveOutcome, c: Colors): string {
  const { message } = outcome;
  const label = { replayed: c.green("replayed"), failed: c.red("failed  "), malformed: c.red("malformed"), "dry-run": c.yellow("would replay") }[outcome.result];
  const received = message.receiveCount !== undefined ? `, received ${fmtInt(message.receiveCount)}×` : "";
  const head = `${label} ${terminalText(message.messageId)}: ${what(outcome)}${received}`;
  switch (outcome.result) {
    case "replayed":
      return `${head}; deleted`;
    case "dry-run":
      if (!message.error && message.origin === "queue") return `${head}; the trigger's queue moved it here after its last receive failed (the error is in the trigger's log group)`;
      return `${head}; it failed with ${cut(message.error ?? "an unknown error")}`;
    default:
      return `${head}; kept: ${cut(outcome.detail ?? "")}`;
  }
}

/** `3 replayed and deleted, 1 failed and kept`. */
export function summaryLine(outcomes: readonly RedriveOutcome[], dryRun: boolean): string {
  if (outcomes.length === 0) return "the dead-letter queue has no messages: nothing to redrive";
  const count = (result: RedriveOutcome["result"]) => outcomes.filter((o) => o.result === result).length;
  if (dryRun) {
    const parts = [`${fmtInt(count("dry-run"))} would be replayed`, ...(count("malformed") > 0 ? [`${fmtInt(count("malformed"))} malformed`] : [])];
    return `${parts.join(", ")} (dry run: nothing invoked or deleted; each message was hidden for at most ${DRY_RUN_VISIBILITY_SECONDS} s and is visible again)`;
  }
  const parts = [`${fmtInt(count("replayed"))} replayed and deleted`, `${fmtInt(count("failed"))} failed and kept`];
  if (count("malformed") > 0) parts.push(`${fmtInt(count("malformed"))} malformed and kept`);
  return parts.join(", ");
}

async function run(options: RedriveOptions, setup: CommandSetup): Promise<number> {
  const { ctx } = setup;
  const max = parseMax(options.max);
  const deployed = await loadDeployedStack(setup.globals(), ctx);
  const { deadLetterQueueUrl: queueUrl, triggerFunctionName: functionName } = deployed.outputs;
  const c = ctx.term.color;
  const warnings: string[] = [];
  if (!options.json) ctx.term.err(`${options.dryRun ? "reading" : "replaying"} ${queueUrl}${options.dryRun ? "" : ` through ${functionName}`}\n`);
  const outcomes = await awsCall("SQS/Lambda redrive", () =>
    redrive({
      aws: ctx.aws(deployed.region),
      queueUrl,
      functionName,
      dryRun: Boolean(options.dryRun),
      max,
      signal: ctx.signal,
      onOutcome: (outcome) => {
        if (!options.json) ctx.term.out(`${outcomeLine(outcome, c)}\n`);
      },
      onWarning: (text) => {
        warnings.push(text);
        if (!options.json) ctx.term.err(`${c.yellow("warning:")} ${text}\n`);
      },
    }),
  );
  const ok = outcomes.every((o) => o.result === "replayed" || o.result === "dry-run");
  if (options.json) {
    const messages = outcomes.map(({ message, result, detail }) => ({
      messageId: message.messageId,
      result,
      origin: message.origin,
      objects: message.objects,
      ...(message.receiveCount !== undefined ? { receiveCount: message.receiveCount } : {}),
      ...(message.error ? { originalError: message.error } : {}),
      ...(detail ? { detail } : {}),
    }));
    ctx.term.out(`${JSON.stringify({ queueUrl, functionName, dryRun: Boolean(options.dryRun), messages, warnings, summary: summaryLine(outcomes, Boolean(options.dryRun)) })}\n`);
  } else {
    ctx.term.out(`${summaryLine(outcomes, Boolean(options.dryRun))}\n`);
  }
  if (ctx.signal.aborted) return CLI_EXIT.interrupted;
  return ok ? CLI_EXIT.ok : CLI_EXIT.failed;
}

export function redriveCommand(program: Command, setup: CommandSetup): void {
  program
    .command("redrive")
    .description("replay the trigger's dead-letter messages through the trigger function; delete each only when its replay succeeded")
    .option("--dry-run", `only read and describe the messages (each is hidden for at most ${DRY_RUN_VISIBILITY_SECONDS} s meanwhile)`)
    .option("--max <n>", "handle at most N messages (default: all)")
    .option("--json", "print {queueUrl, functionName, dryRun, messages, warnings, summary} as JSON")
    .addHelpText(
      "after",
      "\nA replay of an object version whose run was already submitted submits nothing again (the trigger is idempotent\nfor trigger.idempotencyDays, and the orchestrator finds the run's jobs after that while Batch lists them).",
    )
    .action(setup.action((options: RedriveOptions) => run(options, setup)));
}
