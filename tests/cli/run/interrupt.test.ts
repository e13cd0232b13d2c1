/**
 * Ctrl-C during `batch-pipeline run`, in a fresh process as a shell runs it: SIGINT reaches only the CLI
 * (tasks run in process groups of their own), which stops every task it started, their children
 * included, says what it stopped and exits 130, leaving no process behind.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { offline, project, tempDir } from "../stackProject";
import { cli, REPO } from "../support";
import { alive, waitUntil } from "./processes";

const BIN = join(REPO, "cli", "batch-pipeline.cjs");
const SAMPLE = join(REPO, "tests/cli/run/fixtures/sample.csv");

describe("run: Ctrl-C", () => {
  it("stops every running task and its children, says what it stopped, exits 130 and leaves no process behind", async () => {
    // Each task writes "<its pid> <its child's pid>" once both run, then waits.
    const script = 'sleep 30 & echo "$$ $!" > "$PIPELINE_OUTPUT_DIR/pids-$AWS_BATCH_JOB_ARRAY_INDEX"; wait';
    const dir = project({
      local: {
        "batch-pipeline:jobDefinitions": { work: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["sh", "-c", script], memoryMiB: 64 } },
        "batch-pipeline:workflow": { steps: [{ name: "work", jobDefinition: "work", width: { fixed: 2 } }, { name: "after", jobDefinition: "work", dependsOn: ["work"] }] },
      },
    });
    const out = tempDir("bp-int-");
    const child = spawn(process.execPath, [BIN, "run", SAMPLE, "--stack", "local", "--executor", "process", "--jobs", "2", "--out", out], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));

    const running = Math.min(2, availableParallelism());
    const pidFiles = () => {
      const [runId] = existsSync(out) ? readdirSync(out) : [];
      const output = runId ? join(out, runId, "output") : "";
      return output && existsSync(output) ? readdirSync(output).map((f) => join(output, f)) : [];
    };
    await waitUntil(() => pidFiles().filter((f) => readFileSync(f, "utf8").endsWith("\n")).length >= running, 20_000);
    const pids = pidFiles().flatMap((f) => readFileSync(f, "utf8").trim().split(" ").map(Number));
    expect(pids).toHaveLength(running * 2);
    expect(pids.every(alive)).toBe(true);

    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toBe("");
    const stoppedLine = stdout.split("\n").find((l) => l.startsWith("interrupted: "));
    expect(stoppedLine).toMatch(new RegExp(`^interrupted: stopped ${running} running tasks? \\(work\\[0\\] pid ${pids[0]}.*\\); ${3 - running} tasks? never started$`));
    expect(stdout).toMatch(new RegExp(`\nrun [0-9a-f]{24} INTERRUPTED by Ctrl-C after .*: ${running} of 3 tasks run, ${running} cancelled, 0 failed, ${3 - running} not run, 0 retried`));
    await waitUntil(() => !pids.some(alive), 5_000);
    expect(pids.filter(alive)).toEqual([]);
  }, 30_000);

  it("in-process: the final screen shows the stopped task CANCELLED (not failed), the steps never started NOT RUN, the run INTERRUPTED, and no failures", async () => {
    const image = "public.ecr.aws/docker/library/busybox:1.37";
    const dir = project({
      local: {
        "batch-pipeline:jobDefinitions": {
          quick: { image, command: ["true"], memoryMiB: 64 },
          work: { image, command: ["sh", "-c", 'touch "$PIPELINE_OUTPUT_DIR/started-$AWS_BATCH_JOB_ARRAY_INDEX"; exec sleep 30'], memoryMiB: 64 },
        },
        "batch-pipeline:workflow": {
          steps: [
            { name: "prepare", jobDefinition: "quick" },
            { name: "work", jobDefinition: "work", dependsOn: ["prepare"], width: { fixed: 2 } },
            { name: "after", jobDefinition: "quick", dependsOn: ["work"] },
          ],
        },
      },
    });
    const out = tempDir("bp-int-");
    const ctx = offline(dir, { PATH: process.env.PATH ?? "" });
    const running = cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--jobs", "1", "--out", out], ctx);
    const started = () => (existsSync(out) ? readdirSync(out).filter((runId) => existsSync(join(out, runId, "output", "started-0"))) : []);
    await waitUntil(() => started().length > 0, 20_000);
    ctx.controller.abort("SIGINT");
    const { code, stdout, stderr } = await running;
    expect({ code, stderr }).toEqual({ code: 130, stderr: "" });
    const [runId] = started();
    const lines = stdout.replaceAll(out, "<out>").split("\n");
    const finalScreen = lines.slice(lines.lastIndexOf(`run ${runId}  INTERRUPTED  1/4 tasks done, 1 cancelled`));
    expect(finalScreen[0]).toBe(`run ${runId}  INTERRUPTED  1/4 tasks done, 1 cancelled`);
    expect(finalScreen.slice(finalScreen.indexOf("") + 1)).toEqual([
      "├─ prepare  SUCCEEDED  1/1  ████████████████████  0ms",
      "├─ work     CANCELLED  0/2  ····················  0ms",
      "│           1 cancelled · 1 not run",
      "└─ after    NOT RUN    0/1  ····················",
      "",
      expect.stringMatching(/^interrupted: stopped 1 running task \(work\[0\] pid \d+\); 2 tasks never started$/),
      `run ${runId} INTERRUPTED by Ctrl-C after 0ms: 2 of 4 tasks run, 1 cancelled, 0 failed, 2 not run, 0 retried; slowest step prepare (0ms)`,
      `output and logs: <out>/${runId}/`,
      "",
    ]);
    expect(stdout).not.toMatch(/FAILED|failed\n/);
  }, 30_000);
});
