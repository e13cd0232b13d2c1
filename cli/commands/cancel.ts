/** `batch-pipeline cancel`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function cancelCommand(program: Command, setup: CommandSetup): void {
  program
    .command("cancel")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`cancel` is not built yet");
      }),
    );
}
