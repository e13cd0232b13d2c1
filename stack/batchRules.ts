/**
 * Batch's rules on component arguments, as pure functions: the components check their args with them
 * before creating anything, and the stack config (stack/config/) maps the same problems to its key paths,
 * at `pulumi preview` and without loading Pulumi. Each returns the rule broken, or undefined.
 */
import { CRAllocationStrategy, PlatformCapability } from "@aws-sdk/client-batch";
import type { ArgsProblem } from "./argsError";
import { fargateSizeProblem } from "./fargate";

/** Where a job runs: EC2 (Spot and On-Demand) or Fargate. */
export type Platform = typeof PlatformCapability.EC2 | typeof PlatformCapability.FARGATE;

/** Allocation strategies Batch accepts for SPOT environments. */
export const SPOT_ALLOCATION_STRATEGIES = [
  CRAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
  CRAllocationStrategy.SPOT_CAPACITY_OPTIMIZED,
  CRAllocationStrategy.BEST_FIT_PROGRESSIVE,
  CRAllocationStrategy.BEST_FIT,
] as const;
/** Allocation strategies Batch accepts for EC2 (On-Demand) environments. */
export const ON_DEMAND_ALLOCATION_STRATEGIES = [
  CRAllocationStrategy.BEST_FIT_PROGRESSIVE,
  CRAllocationStrategy.BEST_FIT,
] as const;

/** Why `minVcpus` does not go with `maxVcpus`, or undefined when it does. Shared with the stack config. */
export function minVcpusProblem(minVcpus: number, maxVcpus: number): ArgsProblem<"minVcpus"> | undefined {
  return minVcpus > maxVcpus ? { field: "minVcpus", rule: "minVcpus cannot exceed maxVcpus" } : undefined;
}

/**
 * Why `vcpus`/`memoryMiB` is not a size `platform` runs, or undefined: Fargate's table, whole vCPUs on
 * EC2. Shared with the stack config, which adds the queue that decides the platform.
 */
export function jobSizeProblem(platform: Platform, vcpus: number, memoryMiB: number): ArgsProblem<"vcpus" | "memoryMiB"> | undefined {
  if (platform === PlatformCapability.FARGATE) return fargateSizeProblem(vcpus, memoryMiB);
  return Number.isInteger(vcpus) ? undefined : { field: "vcpus", rule: "EC2 jobs take whole vCPUs" };
}

/** Attempts Batch accepts in a retry strategy. */
export const RETRY_ATTEMPTS = { min: 1, max: 10 } as const;

/** Why `attempts` is not a retry count Batch accepts, or undefined. Shared with the stack config. */
export function retryAttemptsProblem(attempts: number): ArgsProblem<"retryAttempts"> | undefined {
  const { min, max } = RETRY_ATTEMPTS;
  if (Number.isInteger(attempts) && attempts >= min && attempts <= max) return undefined;
  return { field: "retryAttempts", rule: `Batch accepts ${min} to ${max} attempts` };
}

/** Queue priorities Batch accepts. */
export const QUEUE_PRIORITY = { min: 0, max: 1000 } as const;
/** How long Batch lets a job stay RUNNABLE before a `jobStateTimeLimitActions` action, in seconds. */
export const RUNNABLE_TIMEOUT_SECONDS = { min: 600, max: 86_400 } as const;

/** Why `priority` is not a queue priority Batch accepts, or undefined. Shared with the stack config. */
export function queuePriorityProblem(priority: number): ArgsProblem<"priority"> | undefined {
  const { min, max } = QUEUE_PRIORITY;
  if (Number.isInteger(priority) && priority >= min && priority <= max) return undefined;
  return { field: "priority", rule: `priority must be a whole number from ${min} to ${max}` };
}

/** Why `seconds` is not a RUNNABLE time limit Batch accepts, or undefined. Shared with the stack config. */
export function runnableTimeoutProblem(seconds: number): ArgsProblem<"runnableTimeoutSeconds"> | undefined {
  const { min, max } = RUNNABLE_TIMEOUT_SECONDS;
  if (Number.isInteger(seconds) && seconds >= min && seconds <= max) return undefined;
  return { field: "runnableTimeoutSeconds", rule: `Batch accepts ${min} to ${max} seconds` };
}
