/**
 * Runs a {@link LocalRunModel} on an {@link Executor} the way Batch runs the DAG ("Job dependencies",
 * "Array jobs", "Automated job retries" and "Job timeouts", Batch user guide):
 * - a job's tasks start only after its plain dependencies SUCCEEDED (an array job: every child); with
 *   N_TO_N, child i waits only for child i of the dependency;
 * - a failed dependency fails its dependents without running them (`Dependent Job failed`), child by
 *   child for N_TO_N; siblings keep running;
 * - a failed attempt is retried per the definition's retry strategy (cli/run/retry.ts); an attempt
 *   longer than `timeoutSeconds` is stopped (SIGTERM, then SIGKILL), fails with
 *   `Job attempt duration exceeded timeout` and is not retried;
 * - at most `maxTasks` attempts at once, and no more than the machine's CPUs and memory worth of their
 *   definitions' vCPUs and MiB (first in, first out: a large task at the head waits for room);
 * - barrier jobs complete the moment their dependencies do (they run `true` in AWS);
 * - on `interrupt()` (Ctrl-C) nothing more starts and running attempts are stopped: their tasks end
 *   CANCELLED (not FAILED), the others stay as they were (never started).
 * Pure: the executor and the clock are injected; work is released by counters (O(1) per task).
 */
import { taskEnvironment } from "./environment";
import type { AttemptEnd, Clock, Execution, Executor } from "./executor";
import type { LocalJob, LocalRunModel, LocalTask, TaskStatus } from "./model";
import { STATUS_REASONS, type SchedulerResult, type StoppedTask, type TaskEvent } from "./outcomes";
import { shouldRetry } from "./retry";

export { STATUS_REASONS, type SchedulerResult, type StoppedTask, type TaskEvent };

/** What the scheduler runs on: the executor, the clock, the limits, and who is told of each task event. */
export interface SchedulerOptions {
  executor: Executor;
  clock: Clock;
  /** Attempts running at once, at most. */
  maxTasks: number;
  /** The machine's CPUs and memory (MiB): running attempts' definitions never add up to more. */
  cpus: number;
  memoryMiB: number;
  onEvent?(task: LocalTask, event: TaskEvent): void;
}

const EPSILON = 1e-9;

/** A running attempt: its execution (once `start` returned), its timeout timer, and why it is being stopped. */
interface Running {
  execution?: Execution;
  cancelTimer?: () => void;
  stopping?: "timeout" | "interrupt";
}

/** One run of one model: `run()` once; `interrupt()` on Ctrl-C. */
export class LocalScheduler {
  private readonly queue: LocalTask[] = [];
  private head = 0;
  private readonly running = new Map<LocalTask, Running>();
  private cpusUsed = 0;
  private memoryUsed = 0;
  private unfinishedJobs: number;
  private pumping = false;
  private interrupted = false;
  private startedAt = 0;
  private resolve?: (result: SchedulerResult) => void;
  private reject?: (error: Error) => void;

  constructor(
    private readonly model: LocalRunModel,
    private readonly o: SchedulerOptions,
  ) {
    this.unfinishedJobs = model.jobs.length;
  }

  /** Runs every task; resolves when all ended, or when the attempts running at an interrupt have stopped. */
  run(): Promise<SchedulerResult> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.startedAt = this.o.clock.now();
      for (const job of this.model.jobs) if (job.pendingDeps === 0) this.release(job);
      this.pump();
    });
  }

  /** Stops everything: no new attempt starts, running ones are stopped. Returns what it stops. */
  interrupt(): StoppedTask[] {
    if (this.interrupted) return [];
    this.interrupted = true;
    const stopped: StoppedTask[] = [];
    for (const [task, run] of this.running) {
      run.stopping = "interrupt";
      stopped.push({ task, what: run.execution?.describe() ?? "starting" });
      run.execution?.stop("interrupt");
    }
    this.settle();
    return stopped;
  }

  private setStatus(task: LocalTask, status: TaskStatus): void {
    const { job } = task;
    job.counts[task.status]--;
    job.step.counts[task.status]--;
    job.counts[status]++;
    job.step.counts[status]++;
    task.status = status;
  }

  /** A job whose plain dependencies all succeeded: its ready tasks are queued, a barrier is done. */
  private release(job: LocalJob): void {
    if (job.released) return;
    job.released = true;
    if (job.planned.kind === "barrier") {
      job.startedAt = this.o.clock.now();
      this.barrierEnded(job, "SUCCEEDED");
      return;
    }
    job.status = "RUNNABLE";
    for (const task of job.tasks) if (task.pendingTwins === 0 && task.status === "PENDING") this.enqueue(task);
  }

  private enqueue(task: LocalTask): void {
    this.setStatus(task, "RUNNABLE");
    this.queue.push(task);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const { maxTasks, cpus, memoryMiB } = this.o;
      while (!this.interrupted && this.head < this.queue.length && this.running.size < maxTasks) {
        const task = this.queue[this.head]!;
        const definition = task.job.definition!;
        if (this.cpusUsed + definition.vcpus > cpus + EPSILON || this.memoryUsed + definition.memoryMiB > memoryMiB) break;
        this.head++;
        this.launch(task);
      }
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    } finally {
      this.pumping = false;
    }
    this.settle();
  }

  private launch(task: LocalTask): void {
    const { job } = task;
    const definition = job.definition!;
    const now = this.o.clock.now();
    task.attempts++;
    task.startedAt ??= now;
    job.startedAt ??= now;
    job.step.startedAt ??= now;
    job.status = "RUNNING";
    this.setStatus(task, "RUNNING");
    this.cpusUsed += definition.vcpus;
    this.memoryUsed += definition.memoryMiB;
    const run: Running = {};
    this.running.set(task, run);
    this.o.onEvent?.(task, "started");
    const environment = taskEnvironment(job.environment, {
      jobId: task.jobId,
      attempt: task.attempts,
      ...(job.array ? { arrayIndex: task.index, arraySize: job.tasks.length } : {}),
    });
    let ended = false;
    const execution = this.o.executor.start(
      { task, job, attempt: task.attempts, image: definition.image, ...(job.command ? { command: job.command } : {}), environment, vcpus: definition.vcpus, memoryMiB: definition.memoryMiB },
      (end) => {
        if (ended) return;
        ended = true;
        this.attemptEnded(task, run, end);
      },
    );
    if (ended) return;
    run.execution = execution;
    if (definition.timeoutSeconds > 0) {
      run.cancelTimer = this.o.clock.setTimer(definition.timeoutSeconds * 1000, () => {
        if (run.stopping) return;
        run.stopping = "timeout";
        execution.stop("timeout");
      });
    }
  }

  private attemptEnded(task: LocalTask, run: Running, end: AttemptEnd): void {
    run.cancelTimer?.();
    this.running.delete(task);
    const definition = task.job.definition!;
    this.cpusUsed -= definition.vcpus;
    this.memoryUsed -= definition.memoryMiB;
    if (end.exitCode === undefined) delete task.exitCode;
    else task.exitCode = end.exitCode;
    if (end.reason === undefined) delete task.reason;
    else task.reason = end.reason;
    if (run.stopping === "interrupt") this.taskCancelled(task);
    else if (run.stopping === "timeout") this.taskFailed(task, STATUS_REASONS.timedOut);
    else if (end.exitCode === 0 && end.reason === undefined) {
      delete task.statusReason;
      task.stoppedAt = this.o.clock.now();
      this.setStatus(task, "SUCCEEDED");
      this.taskEnded(task);
    } else {
      const statusReason = end.reason !== undefined ? STATUS_REASONS.notStarted : STATUS_REASONS.exited;
      if (!this.interrupted && shouldRetry(definition.retryStrategy, task.attempts, { ...end, statusReason })) {
        task.statusReason = statusReason;
        this.enqueue(task);
        this.o.onEvent?.(task, "retrying");
      } else this.taskFailed(task, statusReason);
    }
    this.pump();
  }

  /** A task that ends FAILED: after its last attempt, or without running because a dependency failed. */
  private taskFailed(task: LocalTask, statusReason: string): void {
    task.statusReason = statusReason;
    task.stoppedAt = this.o.clock.now();
    this.setStatus(task, "FAILED");
    this.taskEnded(task);
  }

  /** A task whose attempt Ctrl-C stopped: CANCELLED, not failed; it changes nothing else (nothing more runs). */
  private taskCancelled(task: LocalTask): void {
    task.statusReason = STATUS_REASONS.interrupted;
    task.stoppedAt = this.o.clock.now();
    this.setStatus(task, "CANCELLED");
    this.o.onEvent?.(task, "cancelled");
  }

  /**
   * A task in its final state: its job and step are brought up to date and the event told (so a view
   * sees the step as it now is), then its dependents learn of it (their own events follow).
   */
  private taskEnded(task: LocalTask): void {
    const { job } = task;
    const jobEnded = --job.unfinished === 0;
    if (jobEnded) this.jobEnded(job, job.counts.FAILED > 0 ? "FAILED" : "SUCCEEDED");
    this.o.onEvent?.(task, task.status === "SUCCEEDED" ? "succeeded" : "failed");
    const succeeded = task.status === "SUCCEEDED";
    for (const dependent of job.twinDependents) {
      const twin = dependent.tasks[task.index]!;
      if (twin.status !== "PENDING") continue;
      if (!succeeded) this.taskFailed(twin, STATUS_REASONS.dependencyFailed);
      else if (--twin.pendingTwins === 0 && dependent.pendingDeps === 0) this.enqueue(twin);
    }
    if (jobEnded) this.tellDependents(job);
  }

  /** Marks a job (its tasks, or a barrier) finished, and its step. */
  private jobEnded(job: LocalJob, status: "SUCCEEDED" | "FAILED"): void {
    const now = this.o.clock.now();
    job.status = status;
    job.stoppedAt = now;
    const { step } = job;
    step.unfinishedJobs--;
    if (status === "FAILED") {
      step.failedJobs++;
      if (job.array && job.statusReason === undefined) job.statusReason = STATUS_REASONS.arrayChildFailed;
      if (job.planned.kind === "task" && !job.array) job.statusReason = job.tasks[0]!.statusReason;
    } else if (job.planned.kind === "barrier") step.succeededBarriers++;
    if (step.unfinishedJobs === 0) step.stoppedAt = now;
    this.unfinishedJobs--;
  }

  /** A finished job's plain dependents: released when it succeeded and it was their last, failed when it failed. */
  private tellDependents(job: LocalJob): void {
    for (const dependent of job.dependents) {
      if (job.status === "SUCCEEDED") {
        if (--dependent.pendingDeps === 0) this.release(dependent);
      } else this.dependencyFailed(dependent);
    }
  }

  /** A barrier job: done the moment it is released, or failed with its dependency. */
  private barrierEnded(job: LocalJob, status: "SUCCEEDED" | "FAILED"): void {
    job.unfinished = 0;
    this.jobEnded(job, status);
    this.tellDependents(job);
  }

  /** Fails a job whose plain dependency failed, and its tasks, without running them. */
  private dependencyFailed(job: LocalJob): void {
    if (job.status === "SUCCEEDED" || job.status === "FAILED") return;
    job.statusReason = STATUS_REASONS.dependencyFailed;
    if (job.planned.kind === "barrier") return this.barrierEnded(job, "FAILED");
    for (const task of job.tasks) if (task.status === "PENDING") this.taskFailed(task, STATUS_REASONS.dependencyFailed);
  }

  /** Resolves the run when nothing more can happen. */
  private settle(): void {
    if (!this.resolve || this.pumping || this.running.size > 0) return;
    const now = this.o.clock.now();
    const done = (state: SchedulerResult["state"]) => {
      const resolve = this.resolve!;
      this.resolve = undefined;
      resolve({ state, startedAt: this.startedAt, stoppedAt: now });
    };
    if (this.interrupted) return done("INTERRUPTED");
    if (this.unfinishedJobs === 0) return done(this.model.jobs.some((j) => j.status === "FAILED") ? "FAILED" : "SUCCEEDED");
    // Nothing runs and nothing could start: a task larger than the machine (refused up front by `run`) or a bug.
    const head = this.queue[this.head];
    const why = head ? `task ${head.jobId} needs ${head.job.definition!.vcpus} vCPUs and ${head.job.definition!.memoryMiB} MiB, more than ${this.o.cpus} CPUs and ${this.o.memoryMiB} MiB` : "nothing is queued";
    this.resolve = undefined;
    this.reject!(new Error(`local run stalled with ${this.unfinishedJobs} jobs unfinished: ${why}`));
  }
}
