/**
 * Whether a failed attempt is tried again, by a job definition's retry strategy as Batch applies it
 * (RetryStrategy and EvaluateOnExit, Batch API reference; "Automated job retries", Batch user guide):
 * the rules are evaluated in order and the first whose every condition matches decides (RETRY or EXIT,
 * case-insensitive); when none matches the job is retried; either way never beyond `attempts`. A
 * condition is a glob on the decimal exit code (`onExitCode`), the container's reason (`onReason`) or the
 * job's status reason (`onStatusReason`): an exact match, or a prefix match when it ends with `*`. A job
 * stopped because its attempt timed out is never retried ("Job timeouts", Batch user guide).
 */
import type { EvaluateOnExit, RetryStrategy } from "@aws-sdk/client-batch";

/** What one failed attempt left behind, as DescribeJobs would show it. */
export interface FailedAttempt {
  exitCode?: number;
  /** The container's `reason` (e.g. `CannotStartContainerError: …`), if any. */
  reason?: string;
  /** The job's `statusReason` (e.g. `Essential container in task exited`). */
  statusReason?: string;
}

/** Batch's glob: `*` only at the end, meaning "starts with"; an absent value is matched as the empty string. */
export function globMatches(pattern: string, value: string | undefined): boolean {
  const text = value ?? "";
  return pattern.endsWith("*") ? text.startsWith(pattern.slice(0, -1)) : text === pattern;
}

/** Whether every condition `rule` sets matches the attempt. */
export function ruleMatches(rule: EvaluateOnExit, attempt: FailedAttempt): boolean {
  return (
    (rule.onExitCode === undefined || globMatches(rule.onExitCode, attempt.exitCode === undefined ? undefined : String(attempt.exitCode))) &&
    (rule.onReason === undefined || globMatches(rule.onReason, attempt.reason)) &&
    (rule.onStatusReason === undefined || globMatches(rule.onStatusReason, attempt.statusReason))
  );
}

/** What the rules decide for a failed attempt, and which rule decided (none: the default RETRY). */
export function evaluateOnExit(rules: readonly EvaluateOnExit[], attempt: FailedAttempt): { action: "RETRY" | "EXIT"; rule?: number } {
  const index = rules.findIndex((rule) => ruleMatches(rule, attempt));
  if (index < 0) return { action: "RETRY" };
  return { action: String(rules[index]!.action).toUpperCase() === "EXIT" ? "EXIT" : "RETRY", rule: index };
}

/** Whether attempt number `attempt` (from 1), which failed as `failed`, is followed by another. */
export function shouldRetry(strategy: RetryStrategy | undefined, attempt: number, failed: FailedAttempt): boolean {
  const attempts = strategy?.attempts ?? 1;
  if (attempt >= attempts) return false;
  return evaluateOnExit(strategy?.evaluateOnExit ?? [], failed).action === "RETRY";
}
