/**
 * Lambda's rules on the trigger's `queue` delivery, as pure problem functions: the Trigger component checks
 * its args with them before creating anything, and the stack config (stack/config/rules.ts) maps the same
 * problems to its keys (`trigger.queueMaxConcurrency`, `trigger.maxConcurrency`). Each returns the rule
 * broken, or undefined. And what the event source mapping calls on the queue ({@link QUEUE_POLLER_ACTIONS}).
 */
import { TRIGGER_QUEUE } from "../contract";
import type { ArgsProblem } from "./argsError";

/** Why `maxConcurrency` is not a maximum concurrency Lambda accepts for an SQS event source mapping, or undefined. */
export function queueMaxConcurrencyProblem(maxConcurrency: number): ArgsProblem<"queueMaxConcurrency"> | undefined {
  const { min, max } = TRIGGER_QUEUE.maxConcurrency;
  if (Number.isInteger(maxConcurrency) && maxConcurrency >= min && maxConcurrency <= max) return undefined;
  return { field: "queueMaxConcurrency", rule: `Lambda accepts a maximum concurrency from ${min} to ${max} for an SQS event source mapping` };
}

/**
 * Why the mapping's `maxConcurrency` does not go with the function's reserved concurrency (undefined: none
 * reserved), or undefined. "Don't configure maximum concurrency to be higher than your function's reserved
 * concurrency [...] make sure that your function's reserved concurrency is greater than or equal to the total
 * maximum concurrency for all Amazon SQS event sources on the function. Otherwise, Lambda may throttle your
 * messages" (Lambda developer guide, "Configuring scaling behavior for SQS event source mappings"). A batch
 * that is not processed becomes visible again after the queue's visibility timeout, and every receive counts
 * toward the redrive policy's `maxReceiveCount`: throttled often enough, a message is dead-lettered unprocessed.
 */
export function queueConcurrencyProblem(maxConcurrency: number, reservedConcurrency: number | undefined): ArgsProblem<"queueMaxConcurrency"> | undefined {
  if (reservedConcurrency === undefined || reservedConcurrency >= maxConcurrency) return undefined;
  return {
    field: "queueMaxConcurrency",
    rule: "the event source mapping's maximum concurrency may not exceed the function's reserved concurrency, or Lambda throttles its batches back to the queue (and, received too often, to the dead-letter queue)",
  };
}

/**
 * What the event source mapping calls on the queue with the function's execution role: the permissions AWS's
 * managed policy for it, `AWSLambdaSQSQueueExecutionRole`, grants on SQS, and those the Lambda developer guide
 * ("Creating and configuring an Amazon SQS event source mapping", execution role permissions) lists. Not
 * `sqs:ChangeMessageVisibility`: a failed message simply waits out the visibility timeout. The role's grant
 * (infra/trigger.ts) and the stack's permissions boundary (deploy/policies.ts) share this list.
 */
export const QUEUE_POLLER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] as const;
