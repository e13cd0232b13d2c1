/**
 * Who plans and submits a run's DAG (stack config `orchestrator.mode`), and the numbers the trigger's inline
 * submission keeps to. Pure constants (see contract/index.ts).
 */

/**
 * `container`: the trigger submits a start job, a containerized orchestrator that plans and submits the DAG
 * (the default). `inline`: the trigger Lambda plans and submits the DAG itself, with the same planner and
 * submitter, no start job. `auto`: inline when the run's plan needs at most {@link AUTO_INLINE_MAX_SUBMIT_JOBS}
 * SubmitJob calls (and `orchestrator.wait` is off), else a start job.
 */
export const ORCHESTRATOR_MODES = ["container", "inline", "auto"] as const;
export type OrchestratorMode = (typeof ORCHESTRATOR_MODES)[number];

/** How one run was started: by a start job, or by the trigger itself. */
export type RunOrchestrator = "container" | "inline";

/**
 * `auto`'s bound: a plan of at most this many SubmitJob calls is submitted by the trigger. The default workflow
 * needs 3. Twenty calls, four in flight, take about five round trips (well under a second); throttled at
 * Batch's ~50 SubmitJob/s account rate with the submitter's backoff (1 s base, 20 s cap), they still fit the
 * invocation's budget (its deadline less {@link INLINE_CLEANUP_RESERVE_MS}) unless the account is saturated, in which case the invocation
 * fails, undoes its part and is retried. A larger plan takes the start job, which has an hour.
 */
export const AUTO_INLINE_MAX_SUBMIT_JOBS = 20;

/**
 * The largest plan `inline` takes, in SubmitJob calls, for the workflow's largest input (checked at preview: stack/config
 * `inlinePlanRule`). Sized by the invocation's 10 s undo reserve ({@link INLINE_CLEANUP_RESERVE_MS}): 100 TerminateJob
 * calls four at a time take about 2.5 s at Batch's usual ~100 ms a call, leaving room for throttling; submitting
 * them takes at least 2 s at the account's ~50 SubmitJob/s, well inside the 50 s budget. A larger plan belongs to a
 * start job (`auto` or `container`), which has an hour.
 */
export const INLINE_MAX_SUBMIT_JOBS = 100;

/**
 * The mode a stack's trigger runs in: `orchestrator.wait` needs a start job to wait in, so `auto` with it is
 * `container` (`inline` with it is refused by the config: stack/config `inlineWaitRule`).
 */
export function triggerMode(mode: OrchestratorMode, wait: boolean): OrchestratorMode {
  return wait && mode === "auto" ? "container" : mode;
}

/** Who submits a run's DAG whose plan needs `submitJobCalls` SubmitJob calls, in a trigger running in `mode` ({@link triggerMode}). */
export function runOrchestrator(mode: OrchestratorMode, submitJobCalls: number): RunOrchestrator {
  if (mode === "auto") return submitJobCalls <= AUTO_INLINE_MAX_SUBMIT_JOBS ? "inline" : "container";
  return mode;
}

/**
 * Time an inline invocation keeps for undoing a DAG it could not finish (TerminateJob of what it submitted,
 * one call per job, four in flight) before Lambda's timeout would kill it mid-cleanup: 10 s.
 */
export const INLINE_CLEANUP_RESERVE_MS = 10_000;
