/**
 * The docker executor: the exact `docker run` of an attempt, its stop commands through a stand-in
 * `docker` program (a script that runs each "container" as a process and kills it by name, as the engine
 * does), and the real thing where a Docker engine answers `docker info`.
 */
import { DEFAULT_PROCESS_JOB } from "../../../stack/config";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { containerName, DockerExecutor, dockerAnswers, dockerRunArgs, INPUT_MOUNT, OUTPUT_MOUNT } from "../../../cli/run/dockerExecutor";
import { systemClock } from "../../../cli/run/executor";
import { buildModel } from "../../../cli/run/model";
import { LocalScheduler, STATUS_REASONS } from "../../../cli/run/scheduler";
import { TaskLogs } from "../../../cli/run/taskLogs";
import { offline, tempDir } from "../stackProject";
import { cli, REPO } from "../support";
import { waitUntil } from "./processes";
import { FakeExecutor, modelOf } from "./support";

/** Whether a Docker engine answers `docker info` here, known before the tests are named. */
const docker = spawnSync("docker", ["info"], { timeout: 5_000, stdio: "ignore" }).status === 0;
const SAMPLE = join(REPO, "tests/cli/run/fixtures/sample.csv");

/**
 * A `docker` stand-in: `run` records its arguments, then runs the command after the image as the
 * "container" with the `--env` variables (its pid kept under the container's name); `kill` and `stop`
 * signal that pid.
 */
function fakeDocker(dir: string): string {
  const file = join(dir, "docker");
  writeFileSync(
    file,
    `#!/bin/sh
echo "$@" >> "${dir}/calls"
case "$1" in
  run)
    shift; name=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --rm) shift ;;
        --name) name="$2"; shift 2 ;;
        --env) export "$2"; shift 2 ;;
        --*) shift 2 ;;
        *) break ;;
      esac
    done
    shift
    echo $$ > "${dir}/$name.pid"
    exec "$@" ;;
  kill) kill -KILL "$(cat "${dir}/$2.pid")" ;;
  stop) kill -TERM "$(cat "${dir}/$4.pid")" ;;
esac
`,
  );
  chmodSync(file, 0o755);
  return file;
}

async function scheduled(command: string[], fake: string, runDir: string, timeoutSeconds?: number) {
  const { planned } = await modelOf({ jobDefinitions: { job: { image: "alpine:3.20", command, vcpus: 2, memoryMiB: 512 } }, workflow: { steps: [{ name: "only", jobDefinition: "job" }] } });
  const executor = new DockerExecutor({ runId: planned.runId, logs: new TaskLogs(runDir), inputFile: SAMPLE, outputDir: join(runDir, "output"), docker: fake });
  const model = buildModel(planned.plan, planned.definitionsByName, executor.paths);
  if (timeoutSeconds !== undefined) model.jobs[0]!.definition!.timeoutSeconds = timeoutSeconds;
  const scheduler = new LocalScheduler(model, { executor, clock: systemClock, maxTasks: 1, cpus: 4, memoryMiB: 1 << 20 });
  return { planned, model, scheduler, done: scheduler.run() };
}

describe("docker executor", () => {
  it("runs an attempt as `docker run --rm` of the image and command, with the definition's CPUs and memory, the environment and the two mounts", async () => {
    const { model } = await modelOf();
    const executor = new FakeExecutor();
    await new LocalScheduler(model, { executor, clock: systemClock, maxTasks: 1, cpus: 4, memoryMiB: 1 << 20 }).run();
    const launch = executor.launches[1]!;
    const name = containerName(model.plan.runId, launch);
    expect(name).toBe(`bp-${model.plan.runId}-${launch.task.jobId.replace(":", "-")}-1`);
    const args = dockerRunArgs(launch, name, { inputFile: "/home/me/data/sample.csv", outputDir: "/home/me/runs/x/output" });
    const env = Object.entries(launch.environment).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
    expect(args).toEqual([
      "run", "--rm", "--name", name, "--label", `batch-pipeline.job-id=${launch.task.jobId}`,
      "--cpus", "1", "--memory", "2048m",
      "--volume", `/home/me/data/sample.csv:${INPUT_MOUNT}/sample.csv:ro`,
      "--volume", `/home/me/runs/x/output:${OUTPUT_MOUNT}:rw`,
      ...env,
      "public.ecr.aws/docker/library/busybox:1.37", ...DEFAULT_PROCESS_JOB.command,
    ]);
    expect(new DockerExecutor({ runId: "r", logs: new TaskLogs("/tmp"), inputFile: "/a/b.csv", outputDir: "/o" }).paths).toEqual({ inputPath: `${INPUT_MOUNT}/b.csv`, outputDir: OUTPUT_MOUNT });
  });

  it("through a stand-in docker: the container's output goes to the task's log, a timeout is `docker stop --time 30`", async () => {
    const dir = tempDir("bp-docker-");
    const fake = fakeDocker(dir);
    const ok = await scheduled(["sh", "-c", 'echo "in $PIPELINE_INPUT_PATH"'], fake, join(dir, "ok"));
    expect((await ok.done).state).toBe("SUCCEEDED");
    expect(readFileSync(join(dir, "ok", "logs", "only", "0.log"), "utf8")).toBe(`in ${INPUT_MOUNT}/sample.csv\n`);
    const slow = await scheduled(["sleep", "30"], fake, join(dir, "slow"), 1);
    expect((await slow.done).state).toBe("FAILED");
    const name = containerName(slow.planned.runId, { task: slow.model.jobs[0]!.tasks[0]!, attempt: 1 });
    expect(slow.model.jobs[0]!.tasks[0]).toMatchObject({ exitCode: 143, statusReason: STATUS_REASONS.timedOut });
    expect(readFileSync(join(dir, "calls"), "utf8")).toContain(`stop --time 30 ${name}\n`);
  });

  it("through a stand-in docker: Ctrl-C is `docker kill` of each running container", async () => {
    const dir = tempDir("bp-docker-");
    const fake = fakeDocker(dir);
    const run = await scheduled(["sleep", "30"], fake, join(dir, "run"));
    const name = containerName(run.planned.runId, { task: run.model.jobs[0]!.tasks[0]!, attempt: 1 });
    await waitUntil(() => existsSync(join(dir, `${name}.pid`)), 5_000);
    const stopped = run.scheduler.interrupt();
    expect(stopped.map((s) => s.what)).toEqual([`container ${name}`]);
    expect((await run.done).state).toBe("INTERRUPTED");
    expect(readFileSync(join(dir, "calls"), "utf8")).toContain(`kill ${name}\n`);
  });

  it("refuses a definition built from a folder (no image until `pulumi up` builds it), naming the ways out", async () => {
    const { planned } = await modelOf({ jobDefinitions: { stats: { build: { context: "examples/csv-stats" }, command: ["node", "stats.mjs"] } }, workflow: { steps: [{ name: "stats", jobDefinition: "stats" }] } });
    const executor = new DockerExecutor({ runId: "r", logs: new TaskLogs(tempDir("bp-docker-")), inputFile: "/a/b.csv", outputDir: "/o" });
    const model = buildModel(planned.plan, planned.definitionsByName, executor.paths);
    expect(executor.problem(model.jobs[0]!)).toBe(
      "jobDefinitions.stats is built from examples/csv-stats by `pulumi up`, so there is no image to run here: the docker executor runs pinned images; " +
        "use --executor process (it runs the job in examples/csv-stats), or build it (docker build -t stats:local examples/csv-stats) and run a stack whose jobDefinitions.stats.image is stats:local",
    );
    const pinned = await modelOf();
    expect(executor.problem(buildModel(pinned.planned.plan, pinned.planned.definitionsByName, executor.paths).jobs[0]!)).toBeUndefined();
  });

  it(`dockerAnswers() says whether an engine answers \`docker info\` (here: ${docker ? "one does" : "none does"})`, async () => {
    expect(await dockerAnswers(5_000)).toBe(docker);
  });

  it.each([
    ["no `docker` program on PATH", () => tempDir("bp-no-docker-"), /^error: --executor docker: the docker program is not on PATH; install and start Docker, or use --executor process .*\n$/],
    [
      "a `docker` whose `info` fails (no engine)",
      () => {
        const dir = tempDir("bp-no-engine-");
        writeFileSync(join(dir, "docker"), `#!/bin/sh\necho "$@" >> "${dir}/calls"\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\necho "second line" >&2\nexit 1\n`);
        chmodSync(join(dir, "docker"), 0o755);
        return `${dir}:/usr/bin:/bin`;
      },
      /^error: --executor docker: no Docker engine answers \(`docker info` failed: Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\. Is the docker daemon running\?\); start Docker, or use --executor process .*\n$/,
    ],
  ] as const)("run --executor docker with %s: one error naming the cause, exit 2, before any task and before the output directory", async (_what, path, message) => {
    const out = tempDir("bp-docker-out-");
    const PATH = path();
    const { code, stdout, stderr } = await cli(["run", SAMPLE, "--executor", "docker", "--out", out], offline(REPO, { PATH }));
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(message);
    expect(readdirSync(out)).toEqual([]);
    const calls = join(PATH.split(":")[0]!, "calls");
    // The stand-in was asked `info` and nothing else: no container was started.
    if (existsSync(calls)) expect(readFileSync(calls, "utf8")).toMatch(/^info\b[^\n]*\n$/);
  });

  (docker ? it : it.skip)(
    docker ? "runs the default workflow in busybox containers (a Docker engine answers here)" : "runs the default workflow in busybox containers — skipped: no Docker engine answers `docker info` on this machine",
    async () => {
      const out = tempDir("bp-docker-");
      const { code, stdout } = await cli(["run", SAMPLE, "--executor", "docker", "--out", out], offline(REPO, { PATH: process.env.PATH ?? "" }));
      expect(code).toBe(0);
      expect(stdout).toMatch(/runs on  docker executor/);
      expect(stdout).toMatch(/SUCCEEDED in .*: 5 tasks run, 0 failed, 0 retried/);
    },
    120_000,
  );
});
