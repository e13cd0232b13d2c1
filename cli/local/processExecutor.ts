/**
 * `--executor process`: each attempt runs its command on this machine (spawn, no shell unless the
 * command is itself `sh -c …`), for jobs whose image is only a shell and its userland (busybox, alpine,
 * debian, ubuntu), so the same command means the same thing here. Any other image may hold the program
 * its command runs: such jobs are refused, as are commands whose program is not on this machine's PATH.
 * A task sees the input file and the output directory at their real paths; its environment is what
 * Batch would give it plus the host's PATH (an image's own PATH would be there in a container); it runs
 * in the run's directory. Timeouts send SIGTERM to the attempt's process group, then SIGKILL after the
 * grace Batch gives (30 s; "Job timeouts", Batch user guide); Ctrl-C after a short grace.
 */
import { accessSync, constants as fs } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { Executor, Launch, StopCause } from "./executor";
import type { LocalJob, TaskPaths } from "./model";
import { signalGroup, spawnAttempt } from "./spawnAttempt";
import type { TaskLogs } from "./taskLogs";

/** Images that are only a shell and its userland: their commands run the same on a Unix host. */
export const SHELL_IMAGES: readonly string[] = ["busybox", "alpine", "debian", "ubuntu"];

/** Batch's grace between SIGTERM and SIGKILL when an attempt times out. */
export const TIMEOUT_GRACE_MS = 30_000;
/** After Ctrl-C, how long a task may take to stop on SIGTERM before SIGKILL. */
export const INTERRUPT_GRACE_MS = 3_000;

/** An image's repository name without registry, path, tag or digest: `public.ecr.aws/docker/library/busybox:1.37` → `busybox`. */
export function imageName(image: string): string {
  const [withoutDigest] = image.split("@");
  const last = withoutDigest!.slice(withoutDigest!.lastIndexOf("/") + 1);
  return last.includes(":") ? last.slice(0, last.indexOf(":")) : last;
}

/** Where `program` is on `path` (a PATH value), or undefined. A program with a slash is taken as a path. */
export function findOnPath(program: string, path: string, cwd: string): string | undefined {
  const executable = (file: string) => {
    try {
      accessSync(file, fs.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (program.includes("/")) {
    const file = isAbsolute(program) ? program : resolve(cwd, program);
    return executable(file) ? file : undefined;
  }
  for (const dir of path.split(delimiter)) if (dir && executable(join(dir, program))) return join(dir, program);
  return undefined;
}

/** What the process executor needs: where logs go, the real input and output paths, the host PATH, the graces. */
export interface ProcessExecutorOptions {
  logs: TaskLogs;
  /** The input file (absolute). */
  inputFile: string;
  /** The output directory (absolute). */
  outputDir: string;
  /** The host's PATH: where programs are looked up, and what tasks get as theirs. */
  path: string;
  /** `--follow`: each chunk a task prints. */
  onOutput?: (launch: Launch, chunk: string) => void;
  timeoutGraceMs?: number;
  interruptGraceMs?: number;
}

/** What a job's definition and step are called in messages. */
const whose = (job: LocalJob) => `step ${job.step.name} (jobDefinitions.${job.definition!.key})`;

/** Runs each attempt's command as a process of this machine (see the module comment). */
export class ProcessExecutor implements Executor {
  readonly name = "process";
  readonly paths: TaskPaths;
  private readonly programs = new Map<string, string | undefined>();

  constructor(private readonly o: ProcessExecutorOptions) {
    this.paths = { inputPath: o.inputFile, outputDir: o.outputDir };
  }

  private program(name: string): string | undefined {
    if (!this.programs.has(name)) this.programs.set(name, findOnPath(name, this.o.path, this.o.logs.runDir));
    return this.programs.get(name);
  }

  problem(job: LocalJob): string | undefined {
    const { image } = job.definition!;
    if (!SHELL_IMAGES.includes(imageName(image))) {
      // One line per definition, whichever steps use it.
      return `jobDefinitions.${job.definition!.key} runs image ${image}, which is not only a shell (${SHELL_IMAGES.join(", ")}): its command may need what is in the image, so the process executor cannot stand in for it; use --executor docker`;
    }
    if (!job.command || job.command.length === 0) {
      return `${whose(job)} sets no command, so the image's own would run, which the process executor cannot know: set a command on the job definition or the step, or use --executor docker`;
    }
    const program = job.command[0]!;
    if (!this.program(program)) {
      return `${whose(job)} runs \`${program}\`, which is not on this machine's PATH: the process executor runs commands on the host; install it or use --executor docker`;
    }
    return undefined;
  }

  start(launch: Launch, onEnd: Parameters<Executor["start"]>[1]) {
    const [program, ...args] = launch.command!;
    const onOutput = this.o.onOutput;
    const attempt = spawnAttempt(
      {
        file: this.program(program!) ?? program!,
        args,
        env: { PATH: this.o.path, ...launch.environment },
        cwd: this.o.logs.runDir,
        logFile: this.o.logs.fileOf(launch.task),
        attempt: launch.attempt,
        ...(onOutput ? { onOutput: (chunk: string) => onOutput(launch, chunk) } : {}),
      },
      onEnd,
    );
    let killer: NodeJS.Timeout | undefined;
    attempt.child?.once("close", () => clearTimeout(killer));
    return {
      stop: (cause: StopCause) => {
        const { pid } = attempt;
        if (pid === undefined || attempt.ended()) return;
        signalGroup(pid, "SIGTERM");
        clearTimeout(killer);
        const grace = cause === "timeout" ? (this.o.timeoutGraceMs ?? TIMEOUT_GRACE_MS) : (this.o.interruptGraceMs ?? INTERRUPT_GRACE_MS);
        killer = setTimeout(() => signalGroup(pid, "SIGKILL"), grace);
      },
      describe: () => (attempt.pid === undefined ? "not started" : `pid ${attempt.pid}`),
    };
  }
}
