/** `batch-pipeline redrive`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function redriveCommand(program: Command, setup: CommandSetup): void {
  program
    .command("redrive")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`redrive` is not built yet");
      }),
    );
}
