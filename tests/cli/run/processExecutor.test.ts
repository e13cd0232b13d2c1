/**
 * The process executor with real processes: a timeout kills the attempt's whole process group ("Job
 * timeouts", Batch user guide: SIGTERM, then SIGKILL after a grace), what an attempt leaves running is
 * killed when it ends (as a container's end does), a program that cannot start is a start failure, and
 * image names are recognised whatever the registry, tag or digest.
 */
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Executor, systemClock } from "../../../cli/run/executor";
import { findOnPath, imageName, isLanguageImage, ProcessExecutor } from "../../../cli/run/processExecutor";
import { LocalScheduler, STATUS_REASONS } from "../../../cli/run/scheduler";
import { buildModel } from "../../../cli/run/model";
import { attemptHeader, TaskLogs } from "../../../cli/run/taskLogs";
import { tempDir } from "../stackProject";
import { modelOf } from "./support";
import { alive, waitUntil } from "./processes";

const BUSYBOX = "public.ecr.aws/docker/library/busybox:1.37";
const PATH = process.env.PATH ?? "";

/** A one-step run of `command` on the process executor; the pids it started are recorded. */
async function runOne(command: string[], options: { timeoutSeconds?: number; attempts?: number; timeoutGraceMs?: number } = {}) {
  const { planned } = await modelOf({ jobDefinitions: { job: { image: BUSYBOX, command } }, workflow: { steps: [{ name: "only", jobDefinition: "job" }] } });
  const runDir = tempDir("bp-proc-");
  const executor = new ProcessExecutor({ logs: new TaskLogs(runDir), inputFile: "/dev/null", outputDir: runDir, path: PATH, projectDir: runDir, timeoutGraceMs: options.timeoutGraceMs ?? 30_000 });
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

/**
 * The rule: a definition built from a folder here runs in that folder, a shell-only image or an official
 * language image runs as is; the command's program must be on PATH; anything else is refused with one
 * line naming the definition, the image, the program and the way out.
 */
describe("process executor: which jobs it runs", () => {
  /** A project with a build folder `jobs/hello` (a script printing where it runs), and a PATH of one folder holding `sh` and a `python3` stub. */
  function setting() {
    const projectDir = tempDir("bp-proc-project-");
    mkdirSync(join(projectDir, "jobs", "hello"), { recursive: true });
    writeFileSync(join(projectDir, "jobs", "hello", "where.sh"), 'echo "in $(pwd) as $PIPELINE_STEP"\n');
    const bin = tempDir("bp-proc-bin-");
    writeFileSync(join(bin, "python3"), "#!/bin/sh\necho python stub\n");
    chmodSync(join(bin, "python3"), 0o755);
    symlinkSync(findOnPath("sh", PATH, "/")!, join(bin, "sh"));
    return { projectDir, path: bin };
  }

  async function jobOf(definition: Record<string, unknown>, where: { projectDir: string; path: string }) {
    const { planned } = await modelOf({ jobDefinitions: { job: definition }, workflow: { steps: [{ name: "only", jobDefinition: "job" }] } });
    const runDir = tempDir("bp-proc-run-");
    const executor = new ProcessExecutor({ logs: new TaskLogs(runDir), inputFile: "/dev/null", outputDir: runDir, path: where.path, projectDir: where.projectDir });
    const model = buildModel(planned.plan, planned.definitionsByName, executor.paths);
    const run = async () => {
      model.jobs[0]!.definition!.retryStrategy = { attempts: 1, evaluateOnExit: [] };
      const result = await new LocalScheduler(model, { executor, clock: systemClock, maxTasks: 1, cpus: 1, memoryMiB: 1 << 20 }).run();
      return { state: result.state, log: readFileSync(join(runDir, "logs", "only", "0.log"), "utf8") };
    };
    return { problem: executor.problem(model.jobs[0]!), run };
  }

  it("runs a definition built from a folder of the project in that folder, its program from PATH", async () => {
    const where = setting();
    const job = await jobOf({ build: { context: "jobs/hello" }, command: ["sh", "where.sh"] }, where);
    expect(job.problem).toBeUndefined();
    expect(await job.run()).toEqual({ state: "SUCCEEDED", log: `in ${join(where.projectDir, "jobs", "hello")} as only\n` });
  });

  it.each([
    ["an official python image", "python:3.12-slim"],
    ["the ECR Public mirror of an official python image", "public.ecr.aws/docker/library/python:3.12-slim"],
    ["Docker Hub's library, by digest", `docker.io/library/python@sha256:${"a".repeat(64)}`],
  ])("runs %s (%s) whose program is on PATH", async (_what, image) => {
    const job = await jobOf({ image, command: ["python3", "-c", "print(1)"] }, setting());
    expect(job.problem).toBeUndefined();
    expect(await job.run()).toEqual({ state: "SUCCEEDED", log: "python stub\n" });
  });

  it("runs a shell-only image's command, as before", async () => {
    const job = await jobOf({ image: BUSYBOX, command: ["sh", "-c", "echo hi"] }, setting());
    expect(job.problem).toBeUndefined();
    expect((await job.run()).log).toBe("hi\n");
  });

  it.each([
    [
      "a built definition whose program is not on PATH",
      { build: { context: "jobs/hello" }, command: ["node", "stats.mjs"] },
      "step only (jobDefinitions.job) runs `node` (image build:jobs/hello), which is not on this machine's PATH: the process executor runs commands on the host; install node or use --executor docker",
    ],
    [
      "an official language image whose program is not on PATH",
      { image: "node:22-slim", command: ["node", "app.js"] },
      "step only (jobDefinitions.job) runs `node` (image node:22-slim), which is not on this machine's PATH: the process executor runs commands on the host; install node or use --executor docker",
    ],
    [
      "a shell image whose program is not on PATH",
      { image: BUSYBOX, command: ["wget", "-q", "x"] },
      `step only (jobDefinitions.job) runs \`wget\` (image ${BUSYBOX}), which is not on this machine's PATH: the process executor runs commands on the host; install wget or use --executor docker`,
    ],
    [
      "any other image, whatever its program",
      { image: "ghcr.io/acme/tools:1.2", command: ["sh", "-c", "true"] },
      "jobDefinitions.job runs `sh` in image ghcr.io/acme/tools:1.2, which the process executor cannot stand in for: it runs a command on this machine only for images built from a folder here (build:), shell-only images (busybox, alpine, debian, ubuntu) and official node/python images; use --executor docker",
    ],
    [
      "a language image that is not the official one",
      { image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/python:3.12", command: ["python3", "x.py"] },
      "jobDefinitions.job runs `python3` in image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/python:3.12, which the process executor cannot stand in for: it runs a command on this machine only for images built from a folder here (build:), shell-only images (busybox, alpine, debian, ubuntu) and official node/python images; use --executor docker",
    ],
    [
      "a build folder that does not exist",
      { build: { context: "jobs/missing" }, command: ["sh", "x.sh"] },
      "jobDefinitions.job builds its image from jobs/missing, which is not a folder of <project>: fix jobDefinitions.job.build.context",
    ],
    [
      "no command (the image's own)",
      { build: { context: "jobs/hello" } },
      "step only (jobDefinitions.job) sets no command, so the image's own would run, which the process executor cannot know: set a command on the job definition or the step, or use --executor docker",
    ],
  ])("refuses %s, in one line naming the definition, the image, the program and the way out", async (_what, definition, message) => {
    const where = setting();
    const job = await jobOf(definition, where);
    expect(job.problem?.replace(where.projectDir, "<project>")).toBe(message);
  });

  it.each([
    ["node:22-slim", true],
    ["python:3.12", true],
    ["docker.io/library/node:22", true],
    ["public.ecr.aws/docker/library/node:22.20.0-slim", true],
    ["library/python:3.12", true],
    ["ghcr.io/nodejs/node:22", false],
    ["public.ecr.aws/someone/python:3", false],
    ["node-extra:1", false],
    ["ruby:3.3", false],
  ])("takes %s as an official language image: %s", (image, official) => expect(isLanguageImage(image)).toBe(official));
});
