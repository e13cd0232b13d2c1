/** `batch-pipeline logs`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function logsCommand(program: Command, setup: CommandSetup): void {
  program
    .command("logs")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`logs` is not built yet");
      }),
    );
}
