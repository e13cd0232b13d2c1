/** `batch-pipeline submit`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function submitCommand(program: Command, setup: CommandSetup): void {
  program
    .command("submit")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`submit` is not built yet");
      }),
    );
}
