/** `batch-pipeline runs`: not built yet. */
import type { Command } from "commander";
import { CliError } from "../errors";
import type { CommandSetup } from "../program";

export function runsCommand(program: Command, setup: CommandSetup): void {
  program
    .command("runs")
    .description("(not built yet)")
    .action(
      setup.action(async () => {
        throw new CliError("`runs` is not built yet");
      }),
    );
}
