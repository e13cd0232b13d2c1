/** `batch-pipeline watch`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function watchCommand(program: Command, setup: CommandSetup): void {
  program
    .command("watch")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`watch` is not built yet");
      }),
    );
}
