/**
 * `--executor process`: each attempt runs its command on this machine (spawn, no shell unless the
 * command is itself `sh -c …`), where that means what it would in the job's image. The rule
 * ({@link ProcessExecutor.problem}): the command's program must be on this machine's PATH, and the image
 * must be one of
 * - built from a folder of this repository (`jobDefinitions.<key>.build`): the task runs in that folder,
 *   as the image's `WORKDIR` holds the folder's files, so `[node, stats.mjs]` runs the folder's script;
 * - only a shell and its userland (busybox, alpine, debian, ubuntu), so `sh -c …` means the same here;
 * - an official language image (`node:*`, `python:*`, from Docker Hub's library or its ECR Public mirror),
 *   whose program is the language's own.
 * Any other image may hold the program its command runs, and a job with no command runs the image's own:
 * such jobs are refused, naming the definition, the image and the program, and the way out.
 * A task sees the input file and the output directory at their real paths; its environment is what
 * Batch would give it plus the host's PATH (an image's own PATH would be there in a container); it runs
 * in its build folder, else in the run's directory. Timeouts send SIGTERM to the attempt's process group,
 * then SIGKILL after the grace Batch gives (30 s; "Job timeouts", Batch user guide); Ctrl-C after a short grace.
 */
import { accessSync, constants as fs, statSync } from "node:fs";
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

/** Official language images whose command's program, on this machine's PATH, stands in for the image's. */
export const LANGUAGE_IMAGES: readonly string[] = ["node", "python"];

/** Where Docker Hub's official images are: no registry (`node:22`), Docker Hub's library, or its ECR Public mirror. */
const OFFICIAL_REPOSITORIES = ["", "library/", "docker.io/library/", "index.docker.io/library/", "registry-1.docker.io/library/", "public.ecr.aws/docker/library/"];

/** Whether `image` is an official language image ({@link LANGUAGE_IMAGES}) of Docker Hub or its ECR Public mirror. */
export function isLanguageImage(image: string): boolean {
  const name = imageName(image);
  if (!LANGUAGE_IMAGES.includes(name)) return false;
  const [withoutDigest] = image.split("@");
  const repository = withoutDigest!.slice(0, withoutDigest!.lastIndexOf("/") + 1);
  return OFFICIAL_REPOSITORIES.includes(repository);
}

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
  /** The project's directory (where Pulumi.yaml is), which `build.context` folders are relative to. */
  projectDir: string;
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

  /** Where a job's tasks run: its definition's build folder, else the run's directory. */
  private cwdOf(job: LocalJob): string {
    const context = job.definition!.buildContext;
    return context === undefined ? this.o.logs.runDir : resolve(this.o.projectDir, context);
  }

  private program(name: string, cwd: string): string | undefined {
    const key = name.includes("/") ? `${cwd}\0${name}` : name;
    if (!this.programs.has(key)) this.programs.set(key, findOnPath(name, this.o.path, cwd));
    return this.programs.get(key);
  }

  problem(job: LocalJob): string | undefined {
    const { key, image, buildContext } = job.definition!;
    const program = job.command?.[0];
    if (program === undefined) {
      return `${whose(job)} sets no command, so the image's own would run, which the process executor cannot know: set a command on the job definition or the step, or use --executor docker`;
    }
    if (buildContext !== undefined && !isFolder(this.cwdOf(job))) {
      return `jobDefinitions.${key} builds its image from ${buildContext}, which is not a folder of ${this.o.projectDir}: fix jobDefinitions.${key}.build.context`;
    }
    const kind = buildContext !== undefined ? "built from a folder here" : SHELL_IMAGES.includes(imageName(image)) ? "shell" : isLanguageImage(image) ? "language" : undefined;
    if (kind === undefined) {
      // One line per definition and program, whichever steps use it.
      return (
        `jobDefinitions.${key} runs \`${program}\` in image ${image}, which the process executor cannot stand in for: it runs a command on this machine only for images built ` +
        `from a folder here (build:), shell-only images (${SHELL_IMAGES.join(", ")}) and official ${LANGUAGE_IMAGES.join("/")} images; use --executor docker`
      );
    }
    if (!this.program(program, this.cwdOf(job))) {
      return `${whose(job)} runs \`${program}\` (image ${image}), which is not on this machine's PATH: the process executor runs commands on the host; install ${program} or use --executor docker`;
    }
    return undefined;
  }

  start(launch: Launch, onEnd: Parameters<Executor["start"]>[1]) {
    const [program, ...args] = launch.command!;
    const onOutput = this.o.onOutput;
    const cwd = this.cwdOf(launch.job);
    const attempt = spawnAttempt(
      {
        file: this.program(program!, cwd) ?? program!,
        args,
        env: { PATH: this.o.path, ...launch.environment },
        cwd,
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

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
