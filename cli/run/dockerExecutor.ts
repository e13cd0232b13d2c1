/**
 * `--executor docker` (the default where `docker info` answers): each attempt is `docker run --rm` of
 * its job definition's image with its command and environment, `--cpus`/`--memory` from the definition,
 * the input file mounted read-only at {@link INPUT_MOUNT}`/<name>` and the run's output directory
 * read-write at {@link OUTPUT_MOUNT} (what PIPELINE_INPUT_PATH and PIPELINE_OUTPUT_DIR say). Containers
 * are named (`bp-<run id>-<task>-<attempt>`), so a timeout is `docker stop --time 30` (SIGTERM, then
 * SIGKILL after Batch's 30 s) and Ctrl-C `docker kill`, and any still running when `batch-pipeline`
 * exits are killed. A definition built from a folder (`build:`) is refused: its image exists only once
 * `pulumi up` built it.
 */
import { execFile, spawnSync } from "node:child_process";
import { basename } from "node:path";
import type { Executor, Launch, StopCause } from "./executor";
import type { LocalJob, TaskPaths } from "./model";
import { spawnAttempt } from "./spawnAttempt";
import type { TaskLogs } from "./taskLogs";

/** Where a container finds the input file's directory and the output directory. */
export const INPUT_MOUNT = "/batch-pipeline/input";
export const OUTPUT_MOUNT = "/batch-pipeline/output";

/** Batch's grace between SIGTERM and SIGKILL when an attempt times out, in seconds. */
const TIMEOUT_GRACE_SECONDS = 30;

/** Names of containers still running, killed when this process exits. */
const liveContainers = new Set<string>();
let exitHooked = false;

/** Where to look for `docker` and how long `docker info` may take. */
export interface DockerProbeOptions {
  /** The environment whose PATH finds `docker` (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `docker` program (tests pass a stand-in). */
  docker?: string;
  timeoutMs?: number;
}

/**
 * Why no container can run here, in a few words, or `undefined` when a Docker engine answers `docker info`
 * within the timeout: "the docker program is not on PATH", or "no Docker engine answers (`docker info`
 * failed: <the first line of its stderr>)".
 */
export function dockerProblem(options: DockerProbeOptions = {}): Promise<string | undefined> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve) => {
    execFile(
      options.docker ?? "docker",
      ["info", "--format", "{{.ServerVersion}}"],
      { timeout: timeoutMs, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") return resolve("the docker program is not on PATH");
        const firstLine = String(stderr)
          .split("\n")
          .map((l) => l.trim())
          .find((l) => l !== "");
        if (error) {
          const why = firstLine ?? (error.killed ? `no answer within ${timeoutMs / 1000} s` : `exit ${String(error.code ?? error.signal)}`);
          return resolve(`no Docker engine answers (\`docker info\` failed: ${why})`);
        }
        resolve(String(stdout).trim() === "" ? "no Docker engine answers (`docker info` printed no server version)" : undefined);
      },
    );
  });
}

/** Whether a Docker engine answers (`docker info`), within `timeoutMs`. */
export async function dockerAnswers(timeoutMs = 10_000, env?: DockerProbeOptions["env"]): Promise<boolean> {
  return (await dockerProblem({ timeoutMs, ...(env ? { env } : {}) })) === undefined;
}

/** A container name Docker accepts (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), unique per attempt. */
export function containerName(runId: string, launch: Pick<Launch, "task" | "attempt">): string {
  return `bp-${runId}-${launch.task.jobId.replace(/[^a-zA-Z0-9_.-]/g, "-")}-${launch.attempt}`;
}

/** The `docker run` arguments of one attempt. */
export function dockerRunArgs(launch: Launch, name: string, mounts: { inputFile: string; outputDir: string }): string[] {
  const env = Object.entries(launch.environment).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  return [
    "run",
    "--rm",
    "--name",
    name,
    "--label",
    `batch-pipeline.job-id=${launch.task.jobId}`,
    "--cpus",
    String(launch.vcpus),
    "--memory",
    `${launch.memoryMiB}m`,
    "--volume",
    `${mounts.inputFile}:${INPUT_MOUNT}/${basename(mounts.inputFile)}:ro`,
    "--volume",
    `${mounts.outputDir}:${OUTPUT_MOUNT}:rw`,
    ...env,
    launch.image,
    ...(launch.command ?? []),
  ];
}

/** What the docker executor needs: the run (container names), where logs go, the two host paths it mounts. */
export interface DockerExecutorOptions {
  runId: string;
  logs: TaskLogs;
  inputFile: string;
  outputDir: string;
  onOutput?: (launch: Launch, chunk: string) => void;
  /** The `docker` program (tests pass a stand-in). */
  docker?: string;
  /** The environment `docker` runs in, its PATH finding it (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Runs each attempt in a container of its image (see the module comment). */
export class DockerExecutor implements Executor {
  readonly name = "docker";
  readonly paths: TaskPaths;
  private readonly docker: string;

  constructor(private readonly o: DockerExecutorOptions) {
    this.paths = { inputPath: `${INPUT_MOUNT}/${basename(o.inputFile)}`, outputDir: OUTPUT_MOUNT };
    this.docker = o.docker ?? "docker";
  }

  /** A definition built from a folder has no image until `pulumi up` builds it: refused, with the ways out. */
  problem(job: LocalJob): string | undefined {
    const { key, buildContext } = job.definition!;
    if (buildContext === undefined) return undefined;
    return (
      `jobDefinitions.${key} is built from ${buildContext} by \`pulumi up\`, so there is no image to run here: the docker executor runs pinned images; ` +
      `use --executor process (it runs the job in ${buildContext}), or build it (docker build -t ${key}:local ${buildContext}) and run a stack whose jobDefinitions.${key}.image is ${key}:local`
    );
  }

  start(launch: Launch, onEnd: Parameters<Executor["start"]>[1]) {
    const name = containerName(this.o.runId, launch);
    const onOutput = this.o.onOutput;
    if (!exitHooked) {
      exitHooked = true;
      process.on("exit", () => liveContainers.size > 0 && spawnSync(this.docker, ["kill", ...liveContainers], { stdio: "ignore" }));
    }
    liveContainers.add(name);
    const attempt = spawnAttempt(
      {
        file: this.docker,
        args: dockerRunArgs(launch, name, this.o),
        env: (this.o.env ?? process.env) as Record<string, string>,
        cwd: this.o.logs.runDir,
        logFile: this.o.logs.fileOf(launch.task),
        attempt: launch.attempt,
        ...(onOutput ? { onOutput: (chunk: string) => onOutput(launch, chunk) } : {}),
      },
      (end) => {
        liveContainers.delete(name);
        // 125: docker itself failed (no such image, a bad flag): the container never started.
        onEnd(end.exitCode === 125 ? { reason: "CannotStartContainerError: docker run exited 125 (see the task's log)" } : end);
      },
    );
    return {
      stop: (cause: StopCause) => {
        if (attempt.ended()) return;
        const args = cause === "timeout" ? ["stop", "--time", String(TIMEOUT_GRACE_SECONDS), name] : ["kill", name];
        execFile(this.docker, args, () => undefined);
      },
      describe: () => `container ${name}`,
    };
  }
}
