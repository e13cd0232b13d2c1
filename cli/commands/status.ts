/** `batch-pipeline status`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function statusCommand(program: Command, setup: CommandSetup): void {
  program
    .command("status")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`status` is not built yet");
      }),
    );
}
