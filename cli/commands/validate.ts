/** `batch-pipeline validate`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function validateCommand(program: Command, setup: CommandSetup): void {
  program
    .command("validate")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`validate` is not built yet");
      }),
    );
}
