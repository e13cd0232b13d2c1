/**
 * Bin entry of the start job image (bundled to /app/orchestrator.js). Everything testable is in orchestrator.ts.
 */
import { EXIT_CODES, run } from "./orchestrator";

const controller = new AbortController();
// Batch stops a job with SIGTERM, then SIGKILL about 30 s later: use the time to clean up a half-submitted DAG.
process.once("SIGTERM", () => controller.abort("SIGTERM"));

run(process.argv.slice(2), process.env, { signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: "error", message: "orchestrator crashed", error: String(err instanceof Error ? err.stack : err) })}\n`);
    process.exitCode = EXIT_CODES.crashed;
  },
);
