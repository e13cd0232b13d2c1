/**
 * The `batch-pipeline` command line: global options, one subcommand per feature (its folder's command.ts), and the
 * one place that turns what a command throws into a one-line error and an exit code ({@link CLI_EXIT}).
 */
import { Command, CommanderError } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cancelCommand } from "../cancel/command";
import { logsCommand } from "../logs/command";
import { planCommand } from "../plan/command";
import { redriveCommand } from "../redrive/command";
import { runCommand } from "../run/command";
import { runsCommand } from "../runs/command";
import { statusCommand } from "../status/command";
import { submitCommand } from "../submit/command";
import { validateCommand } from "../validate/command";
import { watchCommand } from "../watch/command";
import { colors, type CliContext } from "./context";
import { CLI_EXIT, CliError, describeAwsError, describeStackFileError } from "./errors";
import type { CommandSetup, GlobalOptions, RegisterCommand } from "./setup";

/** Each registers one subcommand on the program; the only place that imports a command module. */
const COMMANDS: readonly RegisterCommand[] = [
  validateCommand,
  planCommand,
  runCommand,
  submitCommand,
  runsCommand,
  statusCommand,
  watchCommand,
  logsCommand,
  cancelCommand,
  redriveCommand,
];

/**
 * `--version`: the version in the nearest package.json above this file (cli/app/ from the sources,
 * bin/cli/app/ when built by `tsc`); read, not imported, as package.json is outside cli/'s room.
 */
export function cliVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
    if (dirname(dir) === dir) return "unknown";
  }
}

/** Builds the program; exported for tests that list commands and their help. */
export function buildProgram(ctx: CliContext, exit: { code: number }): Command {
  const program = new Command()
    .name("batch-pipeline")
    .description("Operate the file-triggered AWS Batch pipeline: check and plan a stack offline, submit files, follow runs, read logs, cancel, redrive.")
    .option("--stack <name>", "the stack (Pulumi.<name>.yaml; env BATCH_PIPELINE_STACK; default: the only stack file)")
    .option("--outputs <file>", "saved `pulumi stack output --json` of the stack (env BATCH_PIPELINE_OUTPUTS; default: ask the Pulumi CLI)")
    .option("--start-queue <arn>", "override the stack output startQueueArn")
    .option("--process-queue <arn>", "override the stack output processQueueArn")
    .option("--bucket <name>", "override the stack output inputBucketName")
    .option("--function <name>", "override the stack output triggerFunctionName")
    .option("--dlq-url <url>", "override the stack output deadLetterQueueUrl")
    .option("--no-color", "no colours (also off when not a TTY or with NO_COLOR)")
    .version(cliVersion(), "-V, --version", "print batch-pipeline's version (package.json's)")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (t) => ctx.term.out(t), writeErr: (t) => ctx.term.err(t) });
  program.hook("preAction", () => {
    if (program.opts<GlobalOptions>().color === false) ctx.term.color = colors(false);
  });
  const setup: CommandSetup = {
    ctx,
    globals: () => program.opts<GlobalOptions>(),
    action:
      <A extends unknown[]>(run: (...args: A) => Promise<number>) =>
      async (...args: A) => {
        exit.code = await run(...args);
      },
  };
  for (const register of COMMANDS) register(program, setup);
  return program;
}

/**
 * Runs `batch-pipeline` with `argv` (the arguments only, no `node` and script) and returns the exit code.
 * A {@link CliError}, a project file Pulumi could not read either (`StackFileError`) or an AWS error prints one
 * line on stderr; anything else is a bug and prints its stack.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const exit = { code: CLI_EXIT.ok as number };
  const program = buildProgram(ctx, exit);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message for the rest.
      return error.exitCode === 0 ? CLI_EXIT.ok : CLI_EXIT.usage;
    }
    if (ctx.signal.aborted) {
      ctx.term.err("interrupted\n");
      return CLI_EXIT.interrupted;
    }
    const known = error instanceof CliError ? error : (describeStackFileError(error) ?? describeAwsError(error, "an AWS call"));
    if (known) {
      ctx.term.err(`${ctx.term.color.red("error:")} ${known.message}\n`);
      return known.exitCode;
    }
    ctx.term.err(`batch-pipeline crashed (a bug; please report it):\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return CLI_EXIT.crashed;
  }
}
