/**
 * The retry strategy the stack renders on its job definitions, as a pure value (no Pulumi), so that the
 * operator CLI's local runs (`batch-pipeline run`) retry exactly what Batch would retry for the same
 * definition: one home for the rules, read by infra/jobDefinition.ts and cli/run/.
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

/** EvaluateOnExit: "You can specify between 1 and 5 configuration objects" (Batch API reference, RetryStrategy). */
export const MAX_EVALUATE_ON_EXIT_RULES = 5;
/** Room for `retryOn` patterns: Batch's five rules less the Spot rules and the catch-all EXIT. */
export const MAX_RETRY_ON_PATTERNS = MAX_EVALUATE_ON_EXIT_RULES - DEFAULT_EVALUATE_ON_EXIT.length;
/** EvaluateOnExit patterns hold "up to 512 characters". */
export const MAX_RETRY_PATTERN_CHARS = 512;
/** EvaluateOnExit.onExitCode: "can contain only numbers, and can end with an asterisk (*)". */
const EXIT_CODE_PATTERN = /^\d+\*?$/;
/** EvaluateOnExit.onStatusReason: "letters, numbers, periods (.), colons (:), and white space … can optionally end with an asterisk (*)". */
const STATUS_REASON_PATTERN = /^[A-Za-z0-9.: \t]+\*?$/;

/** Failures a job definition declares transient, each retried like Spot reclamation (`jobDefinitions.<key>.retryOn`). */
export interface RetryOn {
  /** Exit codes (`75`) or exit code prefixes (`"7*"`). */
  readonly exitCodes?: readonly (number | string)[];
  /** The job's status reason, exactly or as a prefix ending with `*` (`"CannotPullContainerError*"` is not one: `onReason`). */
  readonly statusReasons?: readonly string[];
}

/**
 * The rules a definition with `retryOn` renders: the Spot rules, one RETRY rule per exit code and status
 * reason, in that order, then the catch-all EXIT. Without `retryOn`: {@link DEFAULT_EVALUATE_ON_EXIT}.
 */
export function evaluateOnExitOf(retryOn: RetryOn = {}): EvaluateOnExit[] {
  return [
    ...SPOT_RECLAIMED_RULES,
    ...(retryOn.exitCodes ?? []).map((code) => ({ onExitCode: String(code), action: RetryAction.RETRY })),
    ...(retryOn.statusReasons ?? []).map((reason) => ({ onStatusReason: reason, action: RetryAction.RETRY })),
    DEFAULT_EVALUATE_ON_EXIT[DEFAULT_EVALUATE_ON_EXIT.length - 1]!,
  ];
}

/** A `retryOn` rule broken: the path under `retryOn` (or `retryAttempts`) and the rule. */
export interface RetryOnProblem {
  readonly path: readonly (string | number)[];
  readonly rule: string;
}

/** Why `retryOn` cannot be rendered as Batch rules for `attempts`, each at its path; [] when it can. */
export function retryOnProblems(retryOn: RetryOn, attempts: number): RetryOnProblem[] {
  const problems: RetryOnProblem[] = [];
  const codes = retryOn.exitCodes ?? [];
  const reasons = retryOn.statusReasons ?? [];
  codes.forEach((code, i) => {
    if (!EXIT_CODE_PATTERN.test(String(code))) problems.push({ path: ["retryOn", "exitCodes", i], rule: "an exit code is digits, optionally ending with `*` (EvaluateOnExit.onExitCode)" });
  });
  reasons.forEach((reason, i) => {
    if (reason.length === 0 || reason.length > MAX_RETRY_PATTERN_CHARS || !STATUS_REASON_PATTERN.test(reason)) {
      problems.push({
        path: ["retryOn", "statusReasons", i],
        rule: `1 to ${MAX_RETRY_PATTERN_CHARS} letters, digits, periods, colons, spaces and tabs, optionally ending with \`*\` after at least one of them (EvaluateOnExit.onStatusReason; a bare \`*\` would retry every failure)`,
      });
    }
  });
  if (codes.length + reasons.length > MAX_RETRY_ON_PATTERNS) {
    problems.push({
      path: ["retryOn"],
      rule: `at most ${MAX_RETRY_ON_PATTERNS} exit codes and status reasons together: Batch takes ${MAX_EVALUATE_ON_EXIT_RULES} rules and the Spot rules and the final EXIT take ${DEFAULT_EVALUATE_ON_EXIT.length}; use a prefix (\`"7*"\`) to cover several codes`,
    });
  }
  if (codes.length + reasons.length > 0 && attempts < 2) {
    problems.push({ path: ["retryAttempts"], rule: "must be at least 2 for retryOn to retry anything (attempts count the first one)" });
  }
  return problems;
}
