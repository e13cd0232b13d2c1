/**
 * `batch-pipeline run FILE [--stack NAME] [--executor docker|process] [--jobs N] [--out DIR] [--follow]
 * [--json]`: the stack's workflow (the default config's without a stack) run on this machine for FILE,
 * before it ever reaches AWS. The config is read and checked as `validate` and `plan` do, the run id is
 * the trigger's for the file as an object (cli/run/plan.ts), the plan is the orchestrator's own, and
 * the scheduler (cli/run/scheduler.ts) runs it with Batch's rules: dependencies, N_TO_N, retries,
 * timeouts, and no more at once than `--jobs` and the machine's CPUs and memory. The screen is `status`'s,
 * its header naming the config (the stack's file, or the defaults and the stacks there were to choose from);
 * each task's output is in `<out>/<run id>/logs/<step>/<task>.log`; the exit code is the outcome. No AWS
 * account, no Pulumi CLI; Docker only for `--executor docker`.
 */
import { LOCAL_TASK_ENV, START_JOB_ENV, TASK_ENV } from "../../contract";
import { type Command, Option } from "commander";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { CliContext } from "../app/context";
import { CLI_EXIT, CliError } from "../app/errors";
import { fmtInt, terminalText } from "../app/format";
import { DockerExecutor, dockerAnswers, dockerProblem } from "./dockerExecutor";
import type { Clock, Executor, Launch } from "./executor";
import { buildModel, type LocalRunModel, type LocalTask, shellProblemOf } from "./model";
import { localInput, localPlan } from "./plan";
import { ProcessExecutor } from "./processExecutor";
import { LOCK_FILE, lockRunDir } from "./runLock";
import { LocalScheduler, type StoppedTask } from "./scheduler";
import type { RunPlace } from "./screen";
import { localFailures, localSnapshot, summarize } from "./snapshot";
import { LineBuffer, TaskLogs } from "./taskLogs";
import { exitCodeOfRun, jsonView, type LocalView, plainView, ttyView } from "./view";
import type { CommandSetup } from "../app/setup";
import { ignoredBecause, planTarget, type Target } from "../stack/target";

/** Where runs go unless `--out` says otherwise (under the working directory; `dist/` is gitignored here). */
export const DEFAULT_OUT = join("dist", "runs");

interface RunOptions {
  executor?: "docker" | "process";
  jobs?: string;
  out: string;
  follow?: boolean;
  json?: boolean;
}

/** This machine, as the scheduler limits it. */
export interface Machine {
  cpus: number;
  memoryMiB: number;
}

/** The CPUs Node may use and the total memory, in MiB. */
export const thisMachine = (): Machine => ({ cpus: availableParallelism(), memoryMiB: Math.floor(totalmem() / 2 ** 20) });

function parseJobs(text: string | undefined, machine: Machine): number {
  if (text === undefined) return machine.cpus;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`--jobs ${text}: must be a whole number of tasks at once, at least 1 (default: ${machine.cpus}, this machine's CPUs)`);
  return n;
}

/** Why the run cannot start: jobs larger than the machine, or that the executor cannot run; one line each. */
function problemsOf(model: LocalRunModel, executor: Executor, machine: Machine): string[] {
  const problems = new Set<string>();
  for (const job of model.jobs) {
    const d = job.definition;
    if (!d) continue;
    if (d.vcpus > machine.cpus || d.memoryMiB > machine.memoryMiB) {
      problems.add(
        `jobDefinitions.${d.key} needs ${d.vcpus} vCPUs and ${fmtInt(d.memoryMiB)} MiB per task, and this machine has ${machine.cpus} CPUs and ${fmtInt(machine.memoryMiB)} MiB: ` +
          `its tasks could never start here; lower jobDefinitions.${d.key}.vcpus or .memoryMiB for a local run, or run it in AWS`,
      );
    }
    const shell = shellProblemOf(job);
    if (shell) problems.add(shell);
    const problem = executor.problem(job);
    if (problem) problems.add(problem);
  }
  return [...problems];
}

/**
 * `--executor`, or docker when a Docker engine answers, else process (said on stderr). `--executor docker`
 * with no engine to run containers is a usage error here, before any task starts: one line with the cause.
 */
async function chooseExecutor(options: RunOptions, ctx: CliContext): Promise<"docker" | "process"> {
  if (options.executor === "docker") {
    const problem = await dockerProblem({ env: ctx.env });
    if (problem) throw new CliError(`--executor docker: ${problem}; ${problem.startsWith("the docker program") ? "install and start Docker" : "start Docker"}, or use --executor process (each task's command on this machine)`);
    return "docker";
  }
  if (options.executor) return options.executor;
  if (await dockerAnswers(undefined, ctx.env)) return "docker";
  ctx.term.err(`${ctx.term.color.yellow("note:")} no Docker engine answered \`docker info\`: running each task's command on this machine (--executor process)\n`);
  return "process";
}

/** The project's directory: the stack file's (`build.context` folders are relative to it), else the working directory. */
const projectDirOf = (target: Target, cwd: string) => (target.source.stack !== undefined ? dirname(target.source.file) : cwd);

/** Runs FILE's workflow here; resolves to the exit code. */
export async function runLocally(fileArg: string, options: RunOptions, setup: CommandSetup): Promise<number> {
  const { ctx } = setup;
  const machine = thisMachine();
  const maxTasks = parseJobs(options.jobs, machine);
  const target = await planTarget(setup);
  if (!target) return CLI_EXIT.failed;
  const input = await localInput(resolve(ctx.cwd, fileArg), target);
  const ignored = ignoredBecause(input.key, input.sizeBytes, target.config.trigger);
  if (ignored) ctx.term.err(`${ctx.term.color.yellow("note:")} in AWS the trigger would start no run for ${terminalText(JSON.stringify(input.key))}: ${ignored}; running it anyway\n`);
  const planned = await localPlan(target, input, setup.globals().processQueue, ctx.env);
  for (const definition of new Set(planned.definitionsByName.values())) {
    if (definition.missingSecrets.length === 0) continue;
    const names = definition.missingSecrets.join(", ");
    ctx.term.err(`${ctx.term.color.yellow("note:")} jobDefinitions.${definition.key}'s secrets ${names} are unset in this run: in AWS ECS reads them from SSM or Secrets Manager; here export ${definition.missingSecrets.length === 1 ? "it" : "them"} (same name${definition.missingSecrets.length === 1 ? "" : "s"}) to give the tasks a value\n`);
  }
  const executorName = await chooseExecutor(options, ctx);
  if (ctx.signal.aborted) {
    ctx.term.err("interrupted: nothing was started\n");
    return CLI_EXIT.interrupted;
  }

  const runDir = resolve(ctx.cwd, options.out, planned.runId);
  const outputDir = join(runDir, "output");
  const logs = new TaskLogs(runDir);
  const lines = new LineBuffer<LocalTask>();
  let view: LocalView | undefined;
  const onOutput = options.follow ? (launch: Launch, chunk: string) => lines.push(launch.task, chunk).forEach((l) => view!.log(launch.task, l)) : undefined;
  const executor: Executor =
    executorName === "docker"
      ? new DockerExecutor({ runId: planned.runId, logs, inputFile: input.file, outputDir, env: ctx.env, ...(onOutput ? { onOutput } : {}) })
      : new ProcessExecutor({ logs, inputFile: input.file, outputDir, path: ctx.env.PATH ?? "", projectDir: projectDirOf(target, ctx.cwd), ...(onOutput ? { onOutput } : {}) });
  const model = buildModel(planned.plan, planned.definitionsByName, executor.paths);
  const problems = problemsOf(model, executor, machine);
  if (problems.length > 0) {
    for (const p of problems) ctx.term.err(`${ctx.term.color.red("error:")} ${p}\n`);
    return CLI_EXIT.usage;
  }
  // The same file gives the same run id, hence the same folder: one run at a time in it (cli/run/runLock.ts:
  // a second one is refused, exit 2), and a run of it again replaces the last one's output and logs.
  const lock = lockRunDir(runDir);
  let listening: (() => void) | undefined;
  try {
    if (lock.tookOverFrom !== undefined) ctx.term.err(`${ctx.term.color.yellow("note:")} a run of this file (pid ${lock.tookOverFrom}) ended without removing its lock: taking it over\n`);
    const previous = readdirSync(runDir).filter((name) => name !== LOCK_FILE);
    if (previous.length > 0) {
      ctx.term.err(`${ctx.term.color.yellow("note:")} replacing the previous local run of this file in ${runDir}\n`);
      for (const name of previous) rmSync(join(runDir, name), { recursive: true, force: true });
    }
    mkdirSync(outputDir, { recursive: true });

    const startedAt = ctx.now();
    const objectInput = { bucket: input.bucket, key: input.key, versionId: input.versionId, sizeBytes: input.sizeBytes };
    const place: RunPlace = { cwd: ctx.cwd, config: target.source, file: input.file, runDir, outputDir, executor: executor.name, maxTasks, ...machine };
    // The ctx clock (a test's is fixed) for every time shown; real timers for timeouts and redraws.
    const clock: Clock = {
      now: ctx.now,
      setTimer: (ms, fire) => {
        const timer = setTimeout(fire, ms);
        return () => clearTimeout(timer);
      },
    };
    const viewContext = { ctx, model, place, startedAt, clock, snapshot: () => localSnapshot(model, objectInput, startedAt) };
    view = options.json ? jsonView(viewContext) : ctx.term.isTTY ? ttyView(viewContext) : plainView(viewContext);
    const scheduler = new LocalScheduler(model, {
      executor,
      clock,
      maxTasks,
      ...machine,
      onEvent: (task, event) => {
        if (options.follow && event !== "started") lines.end(task).forEach((l) => view!.log(task, l));
        view!.event(task, event);
      },
    });
    let stopped: StoppedTask[] = [];
    const interrupt = () => void (stopped = scheduler.interrupt());
    ctx.signal.addEventListener("abort", interrupt, { once: true });
    listening = () => ctx.signal.removeEventListener("abort", interrupt);
    view.begin(viewContext.snapshot());
    const result = await scheduler.run();
    const snapshot = localSnapshot(model, objectInput, startedAt, result.stoppedAt, result.state === "INTERRUPTED");
    const exitCode = exitCodeOfRun(result.state);
    view.end({ state: result.state, snapshot, failures: localFailures(model, snapshot), summary: summarize(model, startedAt, result.stoppedAt), exitCode, stopped });
    return exitCode;
  } finally {
    listening?.();
    view?.close();
    lock.release();
  }
}

/** Registers `run FILE` (see {@link runLocally}). */
export function runCommand(program: Command, setup: CommandSetup): void {
  program
    .command("run")
    .description("run the stack's workflow (the default config's without --stack) for FILE on this machine, as AWS would plan and run it; no AWS, no Pulumi CLI")
    .argument("<file>", "the file a run is for, as if uploaded: key <trigger.prefix><file name>, its real size")
    .addOption(new Option("--executor <executor>", "docker: each task in its image; process: its command on this machine, for images built from a folder here (in that folder), shell-only and official node/python images (default: docker when `docker info` answers)").choices(["docker", "process"]))
    .option("--jobs <n>", "tasks at once, at most (default: this machine's CPUs)")
    .option("--out <dir>", "where runs go: <dir>/<run id>/output (PIPELINE_OUTPUT_DIR) and logs/<step>/<task>.log", DEFAULT_OUT)
    .option("--follow", "also print every line the tasks print, prefixed by step and task")
    .option("--json", "print one JSON line per event (start, task, step, log, end) instead of the screen")
    .addHelpText(
      "after",
      `\nA task finds the input in ${LOCAL_TASK_ENV.inputPath} (the file; ${START_JOB_ENV.bucket}/KEY say which object it stands for) and writes\n` +
        `what it would put under s3://$${TASK_ENV.outputBucket}/$${TASK_ENV.outputPrefix} into ${LOCAL_TASK_ENV.outputDir}. Every other variable\n` +
        "is what Batch would give it: the job definition's environment, the orchestrator's overrides, AWS_BATCH_JOB_ID, _ATTEMPT, _ARRAY_INDEX.\n" +
        "Exit codes: 0 every task succeeded, 1 a task failed (or the config does not validate), 2 usage (a job this machine or executor\n" +
        "cannot run; --executor docker with no docker program or no engine answering `docker info`; a run of the same file still\n" +
        "running in the same --out folder), 130 Ctrl-C (everything started is stopped).",
    )
    .action(setup.action(async (file: string, options: RunOptions) => runLocally(file, options, setup)));
}
