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
import { project, tempDir } from "../stackProject";
import { REPO } from "../support";
import { alive, waitUntil } from "./processes";

const BIN = join(REPO, "cli", "batch-pipeline.cjs");
const SAMPLE = join(REPO, "tests/cli/local/fixtures/sample.csv");

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
    expect(stdout).toMatch(/\nrun [0-9a-f]{24} INTERRUPTED in .*: \d of 3 tasks run, \d failed/);
    await waitUntil(() => !pids.some(alive), 5_000);
    expect(pids.filter(alive)).toEqual([]);
  }, 30_000);
});
