/**
 * The process executor with real processes: a timeout kills the attempt's whole process group ("Job
 * timeouts", Batch user guide: SIGTERM, then SIGKILL after a grace), what an attempt leaves running is
 * killed when it ends (as a container's end does), a program that cannot start is a start failure, and
 * image names are recognised whatever the registry, tag or digest.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Executor, systemClock } from "../../../cli/local/executor";
import { findOnPath, imageName, ProcessExecutor } from "../../../cli/local/processExecutor";
import { LocalScheduler, STATUS_REASONS } from "../../../cli/local/scheduler";
import { buildModel } from "../../../cli/local/model";
import { attemptHeader, TaskLogs } from "../../../cli/local/taskLogs";
import { tempDir } from "../stackProject";
import { modelOf } from "./support";
import { alive, waitUntil } from "./processes";

const BUSYBOX = "public.ecr.aws/docker/library/busybox:1.37";
const PATH = process.env.PATH ?? "";

/** A one-step run of `command` on the process executor; the pids it started are recorded. */
async function runOne(command: string[], options: { timeoutSeconds?: number; attempts?: number; timeoutGraceMs?: number } = {}) {
  const { planned } = await modelOf({ jobDefinitions: { job: { image: BUSYBOX, command } }, workflow: { steps: [{ name: "only", jobDefinition: "job" }] } });
  const runDir = tempDir("bp-proc-");
  const executor = new ProcessExecutor({ logs: new TaskLogs(runDir), inputFile: "/dev/null", outputDir: runDir, path: PATH, timeoutGraceMs: options.timeoutGraceMs ?? 30_000 });
  const model = buildModel(planned.plan, planned.definitionsByName, executor.paths);
  const definition = model.jobs[0]!.definition!;
  // The config's minimum is 60 s (Batch's); the scheduler takes any.
  if (options.timeoutSeconds !== undefined) definition.timeoutSeconds = options.timeoutSeconds;
  definition.retryStrategy = { attempts: options.attempts ?? 1, evaluateOnExit: [] };
  const pids: number[] = [];
  const recording: Executor = {
    name: executor.name,
    paths: executor.paths,
    problem: (job) => executor.problem(job),
    start: (launch, onEnd) => {
      const execution = executor.start(launch, onEnd);
      const pid = /^pid (\d+)$/.exec(execution.describe());
      if (pid) pids.push(Number(pid[1]));
      return execution;
    },
  };
  const started = Date.now();
  const result = await new LocalScheduler(model, { executor: recording, clock: systemClock, maxTasks: 1, cpus: 1, memoryMiB: 1 << 20 }).run();
  return { result, task: model.jobs[0]!.tasks[0]!, pids, ms: Date.now() - started, log: () => readFileSync(join(runDir, "logs", "only", "0.log"), "utf8") };
}

describe("process executor", () => {
  it("stops `sleep 30` at a 1 s timeout: SIGTERM to its group, exit 143, not retried, the process gone", async () => {
    const { result, task, pids, ms } = await runOne(["sleep", "30"], { timeoutSeconds: 1, attempts: 3 });
    expect(result.state).toBe("FAILED");
    expect(task).toMatchObject({ status: "FAILED", exitCode: 143, statusReason: STATUS_REASONS.timedOut, attempts: 1 });
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(10_000);
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(false);
  });

  it("on a timeout, kills what ignores SIGTERM with SIGKILL after the grace, children included", async () => {
    const { task, pids, log } = await runOne(["sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"], { timeoutSeconds: 1, timeoutGraceMs: 300 });
    expect(task).toMatchObject({ exitCode: 137, statusReason: STATUS_REASONS.timedOut });
    const child = Number(log().trim());
    await waitUntil(() => !alive(child), 5_000);
    expect([alive(pids[0]!), alive(child)]).toEqual([false, false]);
  });

  it("kills what a task leaves running in the background when it ends, as a container's end does", async () => {
    const { result, log } = await runOne(["sh", "-c", "sleep 30 & echo $!"]);
    expect(result.state).toBe("SUCCEEDED");
    const orphan = Number(log().trim());
    await waitUntil(() => !alive(orphan), 5_000);
    expect(alive(orphan)).toBe(false);
  });

  it("appends each retry's output to the task's log file after a header, as AWS_BATCH_JOB_ATTEMPT counts", async () => {
    const { task, log } = await runOne(["sh", "-c", 'echo "attempt $AWS_BATCH_JOB_ATTEMPT"; exit 1'], { attempts: 3 });
    expect(task).toMatchObject({ status: "FAILED", exitCode: 1, attempts: 3 });
    expect(log()).toBe(`attempt 1\n${attemptHeader(2)}attempt 2\n${attemptHeader(3)}attempt 3\n`);
  });

  it("reports a program that cannot be executed as a start failure (CannotStartContainerError), not an exit code", async () => {
    const dir = tempDir("bp-proc-");
    const { task } = await runOne([join(dir, "missing-program")]);
    expect(task.exitCode).toBeUndefined();
    expect(task.reason).toMatch(/^CannotStartContainerError: spawn .*missing-program ENOENT$/);
    expect(task.statusReason).toBe(STATUS_REASONS.notStarted);
  });

  it.each([
    ["public.ecr.aws/docker/library/busybox:1.37", "busybox"],
    ["alpine:3.20", "alpine"],
    ["docker.io/library/debian@sha256:0123abcd", "debian"],
    ["localhost:5000/ubuntu:24.04", "ubuntu"],
    ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools/busybox-extra:1", "busybox-extra"],
  ])("reads the image name of %s as %s", (image, name) => expect(imageName(image)).toBe(name));

  it("finds programs on PATH, and takes a program with a slash as a path", () => {
    expect(findOnPath("sh", PATH, "/")).toMatch(/\/sh$/);
    expect(findOnPath("surely-not-installed-anywhere", PATH, "/")).toBeUndefined();
    expect(findOnPath("/bin/sh", "", "/")).toBe("/bin/sh");
    expect(findOnPath("bin/sh", "", "/")).toBe("/bin/sh");
  });
});
