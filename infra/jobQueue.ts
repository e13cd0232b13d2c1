import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JobStateTimeLimitActionsAction, JQState } from "@aws-sdk/client-batch";
import { type ComputeKind, isFargate } from "./computeEnvironment";
import { argsFailer } from "../stack/argsError";
import { queuePriorityProblem, runnableTimeoutProblem } from "../stack/batchRules";

/** What a queue needs of an environment: its ARN and whether it is Fargate. */
export interface QueueEnvironment {
  readonly arn: pulumi.Input<string>;
  /** Fargate and EC2 environments never share a queue. */
  readonly kind: ComputeKind;
}

/** Reasons a RUNNABLE job will never start by itself; Batch accepts only these for CANCEL actions. */
export const STUCK_RUNNABLE_REASONS = [
  "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
  "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
] as const;

export interface FairShareArgs {
  /** Seconds of past usage that count against a share. @default 3600 */
  readonly shareDecaySeconds?: number;
  /** vCPUs held back for share identifiers that have not run yet, as a percentage (0-99). @default 0 */
  readonly computeReservation?: number;
  /** Relative weights of share identifiers; lower weight gets more. @default [] (all equal) */
  readonly shareDistributions?: readonly { readonly shareIdentifier: string; readonly weightFactor?: number }[];
}

export interface JobQueueArgs {
  /** Higher runs first when queues share environments. 0 to 1000. */
  readonly priority: number;
  /** 1 to 3 environments in the order Batch tries them (e.g. Spot, then On-Demand). */
  readonly computeEnvironments: readonly QueueEnvironment[];
  /**
   * Cancel jobs that stay RUNNABLE this long for a reason that never resolves by itself (600 to 86,400 s).
   * @default undefined (never)
   */
  readonly runnableTimeoutSeconds?: number;
  /** Attach a fair-share scheduling policy. @default undefined (first in, first out) */
  readonly fairShare?: FairShareArgs;
  /** Tags on every resource the component creates. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

export class JobQueueArgsError extends Error {
  override readonly name = "JobQueueArgsError";
}

/** Checks Batch's queue rules before anything is created. Pure, table-tested. */
export function validateJobQueueArgs(name: string, args: JobQueueArgs): void {
  const fail = argsFailer(JobQueueArgsError, "JobQueue", name);
  const priority = queuePriorityProblem(args.priority);
  if (priority) fail(priority.field, args.priority, priority.rule);
  const kinds = args.computeEnvironments.map((e) => e.kind);
  if (kinds.length < 1 || kinds.length > 3) {
    fail("computeEnvironments", kinds, "a queue takes 1 to 3 compute environments");
  }
  if (new Set(kinds.map(isFargate)).size > 1) {
    fail("computeEnvironments", kinds, "a queue cannot mix Fargate and EC2 environments; use one queue for each");
  }
  const t = args.runnableTimeoutSeconds;
  const timeout = t === undefined ? undefined : runnableTimeoutProblem(t);
  if (timeout) fail(timeout.field, t, timeout.rule);
  const reservation = args.fairShare?.computeReservation;
  if (reservation !== undefined && (reservation < 0 || reservation > 99)) {
    fail("fairShare.computeReservation", reservation, "must be from 0 to 99");
  }
}

/**
 * A Batch job queue over up to three ordered compute environments, optionally cancelling jobs that
 * can never start and optionally scheduling by fair share.
 */
export class JobQueue extends pulumi.ComponentResource {
  readonly queue: aws.batch.JobQueue;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  readonly schedulingPolicy?: aws.batch.SchedulingPolicy;
  /** Whether the queue's environments are Fargate (job definitions for it must be too). */
  readonly fargate: boolean;

  constructor(name: string, args: JobQueueArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:batch:JobQueue", name, {}, opts);
    validateJobQueueArgs(name, args);
    this.fargate = isFargate(args.computeEnvironments[0]!.kind);
    const tags = args.tags ?? {};

    if (args.fairShare) {
      this.schedulingPolicy = new aws.batch.SchedulingPolicy(
        `${name}-fair-share`,
        {
          fairSharePolicy: {
            shareDecaySeconds: args.fairShare.shareDecaySeconds ?? 3600,
            computeReservation: args.fairShare.computeReservation ?? 0,
            shareDistributions: args.fairShare.shareDistributions?.map((d) => ({ ...d })),
          },
          tags,
        },
        { parent: this },
      );
    }

    this.queue = new aws.batch.JobQueue(
      `${name}-queue`,
      {
        priority: args.priority,
        state: JQState.ENABLED,
        computeEnvironmentOrders: args.computeEnvironments.map((env, order) => ({
          computeEnvironment: env.arn,
          order,
        })),
        jobStateTimeLimitActions:
          args.runnableTimeoutSeconds === undefined
            ? undefined
            : STUCK_RUNNABLE_REASONS.map((reason) => ({
                action: JobStateTimeLimitActionsAction.CANCEL,
                maxTimeSeconds: args.runnableTimeoutSeconds!,
                reason,
                state: "RUNNABLE",
              })),
        schedulingPolicyArn: this.schedulingPolicy?.arn,
        tags,
      },
      { parent: this },
    );
    this.arn = this.queue.arn;
    this.name = this.queue.name;
    this.registerOutputs({ arn: this.arn, name: this.name });
  }
}
