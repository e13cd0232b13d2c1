/**
 * Process entry of `batch-pipeline` (see cli/batch-pipeline.cjs). Ctrl-C or SIGTERM aborts the running
 * command, which stops what it started and exits 130; a second Ctrl-C exits at once.
 */
import { processContext } from "./app/context";
import { CLI_EXIT } from "./app/errors";
import { runCli } from "./app/program";

const controller = new AbortController();
const interrupt = (signal: NodeJS.Signals) => {
  if (controller.signal.aborted) process.exit(CLI_EXIT.interrupted);
  controller.abort(signal);
};
process.on("SIGINT", interrupt);
// `batch-pipeline runs | head`: the reader went away; stop quietly, as `ls | head` does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? CLI_EXIT.ok);
    throw error;
  });
}
process.on("SIGTERM", interrupt);

runCli(process.argv.slice(2), processContext(controller.signal)).then(
  (code) => {
    process.exitCode = controller.signal.aborted && code === CLI_EXIT.ok ? CLI_EXIT.interrupted : code;
    process.removeListener("SIGINT", interrupt);
    process.removeListener("SIGTERM", interrupt);
  },
  (error: unknown) => {
    process.stderr.write(`batch-pipeline crashed (a bug; please report it):\n${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = CLI_EXIT.crashed;
  },
);
