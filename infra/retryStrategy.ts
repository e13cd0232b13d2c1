/**
 * The retry strategy the stack renders on its job definitions, as a pure value (no Pulumi), so that the
 * operator CLI's local runs (`batch-pipeline run`) retry exactly what Batch would retry for the same
 * definition: one home for the rules, read by infra/jobDefinition.ts and cli/local/.
 */
import { type EvaluateOnExit, RetryAction, type RetryStrategy } from "@aws-sdk/client-batch";

/**
 * Retry Spot reclamation, exit on everything else: an EC2 Spot instance taken back under the job
 * (`Host EC2 (instance …) terminated.`) or a FARGATE_SPOT task interrupted (ECS's stop reason
 * `Your Spot Task was interrupted.`). Batch retries when no rule matches, so the catch-all EXIT is what
 * stops a buggy job from burning all its attempts.
 */
export const SPOT_RECLAIMED_RULES: readonly EvaluateOnExit[] = [
  { onStatusReason: "Host EC2*", action: RetryAction.RETRY },
  { onStatusReason: "Your Spot Task was interrupted*", action: RetryAction.RETRY },
];

/** What every process job definition gets unless its args say otherwise: {@link SPOT_RECLAIMED_RULES}, then exit. */
export const DEFAULT_EVALUATE_ON_EXIT: readonly EvaluateOnExit[] = [...SPOT_RECLAIMED_RULES, { onReason: "*", action: RetryAction.EXIT }];

/**
 * A job definition's `retryStrategy` as Batch's API holds it (RetryStrategy, Batch API reference):
 * `attempts` (1 to 10) and the `evaluateOnExit` rules in order, each with only the conditions it sets.
 */
export function retryStrategyOf(attempts: number, evaluateOnExit: readonly EvaluateOnExit[] = DEFAULT_EVALUATE_ON_EXIT): RetryStrategy {
  return {
    attempts,
    evaluateOnExit: evaluateOnExit.map((r) => ({
      action: r.action!,
      ...(r.onExitCode !== undefined ? { onExitCode: r.onExitCode } : {}),
      ...(r.onReason !== undefined ? { onReason: r.onReason } : {}),
      ...(r.onStatusReason !== undefined ? { onStatusReason: r.onStatusReason } : {}),
    })),
  };
}
