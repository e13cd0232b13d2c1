/**
 * The inline orchestration (`orchestrator.mode: inline | auto`): the trigger plans an object version's run with
 * the orchestrator's planner (workflow/planner.ts) and submits its DAG with the orchestrator's submitter
 * (batch/submitter.ts: job names, tags, barrier trees, ambiguous SubmitJob failures, an earlier attempt's
 * partial DAG), from the workflow the stack validated at preview, within the invocation's time budget.
 *
 * Serialized BY VALUE into the inline Pulumi Lambda (built by infra/triggerHandler.ts) with what it imports: no
 * value imports of npm packages or Node builtins here or there, only `import type` (tests/architecture.test.ts).
 */
import { type BatchApi, type BatchCommands, defaultSleep } from "../batch/calls";
import { submitPlan } from "../batch/submitter";
import type { InputObject, Logger } from "../contract";
import { INLINE_CLEANUP_RESERVE_MS, type OrchestratorMode, runOrchestrator } from "../contract/orchestration";
import { keepErrorFields } from "../contract/errors";
import { planWorkflow, type PlanContext } from "../workflow/planner";
import type { WorkflowSpec } from "../workflow/spec";
import type { StoredStartJob } from "./idempotency";

/** Where an inline run's jobs go and what they carry: what the start job reads from its environment otherwise. */
export type InlineTarget = Omit<PlanContext, "runId" | "input">;

/** What {@link createInlineStarter} needs. */
export interface InlineDeps {
  /** `inline` submits every run's DAG; `auto` only a plan of at most `AUTO_INLINE_MAX_SUBMIT_JOBS` SubmitJob calls (contract/orchestration.ts `runOrchestrator`). */
  mode: Exclude<OrchestratorMode, "container">;
  /** The stack's workflow, validated at preview (the spec's rules are not serialized into the Lambda). */
  workflow: WorkflowSpec;
  target: InlineTarget;
  /** Read calls and TerminateJob: `BATCH_CLIENT_CONFIG` (batch/calls.ts). */
  batch: BatchApi;
  /** SubmitJob, never retried by the SDK: `SUBMIT_CLIENT_CONFIG` (batch/calls.ts). */
  submitBatch: BatchApi;
  commands: BatchCommands;
  log?: Logger;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Calls `fire` after `ms` on the same clock as `now` and `sleep` (the budget's end); returns the cancel.
   * @default setTimeout
   */
  setTimer?: (ms: number, fire: () => void) => () => void;
  /** The throttle backoff's jitter. @default Math.random */
  random?: () => number;
}

/** A run submitted inline: the stored record, and whether this call submitted it. */
export interface InlineStart {
  outcome: "submitted" | "existing";
  stored: StoredStartJob;
}

/**
 * Plans the run and submits its DAG before `deadlineMs` (epoch ms, the invocation's end), or resolves to
 * `undefined` when `auto` leaves the run to a start job.
 * @throws {InlineBudgetError} (as the submitter's `SubmissionError` cause) when the DAG could not be submitted within the budget
 * @throws {PlanError} when the workflow cannot be planned for this object
 */
export type InlineStarter = (object: InputObject, runId: string, deadlineMs: number) => Promise<InlineStart | undefined>;

/** The DAG could not be submitted within the invocation's budget: what was submitted is terminated, and the event is retried. */
export class InlineBudgetError extends Error {
  constructor(message: string) {
    super(message);
    keepErrorFields(this, "InlineBudgetError", message);
  }
}

export function createInlineStarter(deps: InlineDeps): InlineStarter {
  const now = deps.now ?? Date.now;
  const pause = deps.sleep ?? defaultSleep;
  const setTimer =
    deps.setTimer ??
    ((ms: number, fire: () => void) => {
      const timer = setTimeout(fire, ms);
      return () => clearTimeout(timer);
    });
  return async (object, runId, deadlineMs) => {
    const input: InputObject = {
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      sizeBytes: object.sizeBytes,
      ...(object.eTag ? { eTag: object.eTag } : {}),
    };
    const plan = planWorkflow(deps.workflow, { ...deps.target, runId, input });
    if (runOrchestrator(deps.mode, plan.jobs.length) === "container") return undefined;

    // Submitting stops at the budget's end, which leaves INLINE_CLEANUP_RESERVE_MS to terminate what was
    // submitted before Lambda's timeout; a backoff that would end past the budget fails at once instead.
    const budgetEnd = deadlineMs - INLINE_CLEANUP_RESERVE_MS;
    const hardEnd = deadlineMs - 1000;
    const budget = new AbortController();
    const overrun = () =>
      new InlineBudgetError(
        `run ${runId}: its ${plan.jobs.length} SubmitJob call(s) did not fit the invocation's budget (${Math.max(0, budgetEnd - now())} ms left): ` +
          "Batch throttled them, or an earlier attempt's jobs were still stopping; the event is retried",
      );
    const cancelTimer = setTimer(Math.max(0, budgetEnd - now()), () => budget.abort(overrun()));
    // While submitting, no backoff past the budget; while undoing (the budget spent), none past the hard end.
    const sleep = (ms: number): Promise<void> => {
      if (now() + ms > (budget.signal.aborted ? hardEnd : budgetEnd)) return Promise.reject(overrun());
      return pause(ms);
    };
    try {
      const result = await submitPlan(plan, {
        batch: deps.batch,
        submitBatch: deps.submitBatch,
        commands: deps.commands,
        log: deps.log,
        sleep,
        signal: budget.signal,
        ...(deps.random ? { random: deps.random } : {}),
      });
      const root = result.jobs[0]!;
      return { outcome: result.outcome, stored: { runId, jobId: root.jobId, jobName: root.jobName, orchestrator: "inline", jobs: result.jobs.length } };
    } finally {
      cancelTimer();
    }
  };
}
