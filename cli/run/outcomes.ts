/**
 * How a local run and its tasks end, in Batch's words: the status reasons DescribeJobs shows for what the
 * scheduler does (cli/run/scheduler.ts), the events a view is told, and the run's result.
 */
import type { LocalTask } from "./model";

/**
 * Status reasons as DescribeJobs shows them for the same events in AWS; `interrupted` is this CLI's own
 * (in AWS, TerminateJob's caller gives the reason).
 */
export const STATUS_REASONS = {
  dependencyFailed: "Dependent Job failed",
  timedOut: "Job attempt duration exceeded timeout",
  exited: "Essential container in task exited",
  notStarted: "Task failed to start",
  arrayChildFailed: "Array Child Job failed",
  interrupted: "Stopped by Ctrl-C",
} as const;

/** What happened to a task; `retrying` after a failed attempt that is tried again; `cancelled` once Ctrl-C stopped it. */
export type TaskEvent = "started" | "retrying" | "succeeded" | "failed" | "cancelled";

/** How the run ended. */
export interface SchedulerResult {
  state: "SUCCEEDED" | "FAILED" | "INTERRUPTED";
  startedAt: number;
  stoppedAt: number;
}

/** An attempt stopped by the scheduler's `interrupt` (Ctrl-C), and what ran it (`pid 4242`, `container …`). */
export interface StoppedTask {
  task: LocalTask;
  what: string;
}
