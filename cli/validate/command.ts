/**
 * `batch-pipeline validate [--stack NAME] [--json]`: checks stack files with exactly the code `pulumi
 * preview` runs (cli/stack/configCheck.ts), offline: no AWS, no Pulumi CLI. Every stack file of the project
 * unless a stack is chosen (`--stack`, `BATCH_PIPELINE_STACK`). Exit 0 when every checked stack is valid,
 * 1 when one has a problem, 2 for a stack that does not exist.
 */
import type { Command } from "commander";
import { checkJson, checkStack, renderCheck } from "../stack/configCheck";
import { CLI_EXIT, CliError } from "../app/errors";
import type { CommandSetup } from "../app/setup";
import { findProject, stackNames } from "../../stack/project";

export function validateCommand(program: Command, setup: CommandSetup): void {
  program
    .command("validate")
    .description("check Pulumi.<stack>.yaml (every stack file, or --stack NAME) with the code pulumi preview runs; no AWS, no Pulumi CLI")
    .option("--json", 'print {"stacks":[{stack, file, valid, problems:[{key, message}], unchecked}]}')
    .addHelpText(
      "after",
      "\n--stack NAME (a global option, or BATCH_PIPELINE_STACK) checks one stack; otherwise every Pulumi.<stack>.yaml of the\n" +
        "project around the working directory. Each problem is one line: the key, its value and the rule it breaks.\n" +
        "Secrets (secure:) cannot be decrypted without Pulumi; they are listed as not checked.\n" +
        "Exit codes: 0 every stack valid, 1 a stack has problems, 2 no such stack or no project.",
    )
    .action(
      setup.action(async (options: { json?: boolean }) => {
        const { ctx } = setup;
        const project = findProject(ctx.cwd);
        const chosen = setup.globals().stack ?? ctx.env.BATCH_PIPELINE_STACK;
        const stacks = chosen ? [chosen] : stackNames(project);
        if (stacks.length === 0) {
          throw new CliError(`no stack files (Pulumi.<stack>.yaml) in ${project.dir}: copy Pulumi.dev.yaml to Pulumi.<stack>.yaml, or run pulumi stack init <stack>`);
        }
        const checks = stacks.map((stack) => checkStack(project, stack));
        if (options.json) {
          ctx.term.out(`${JSON.stringify({ stacks: checks.map(checkJson) })}\n`);
        } else {
          const width = Math.max(...stacks.map((s) => s.length));
          for (const check of checks) ctx.term.out(renderCheck(check, ctx.cwd, ctx.term.color, width));
        }
        return checks.every((c) => c.valid) ? CLI_EXIT.ok : CLI_EXIT.failed;
      }),
    );
}
