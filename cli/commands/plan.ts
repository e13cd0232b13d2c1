/** `batch-pipeline plan`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function planCommand(program: Command, setup: CommandSetup): void {
  program
    .command("plan")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`plan` is not built yet");
      }),
    );
}
