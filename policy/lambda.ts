/**
 * Lambda: a function fed by an SQS queue through an event source mapping reports which messages failed, polls
 * with a bounded concurrency, and reads from a queue that dead-letters what keeps failing. A stack policy: the
 * queue a mapping reads is found through its `eventSourceArn` input (known at preview, unlike the ARN itself).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { asList, subject } from "./resources";

const MAPPINGS = ["aws:lambda/eventSourceMapping:EventSourceMapping"];
const QUEUES = ["aws:sqs/queue:Queue"];

/** The SQS queue of the stack a mapping reads (by its `eventSourceArn` input, else by ARN); undefined for another source or a queue made elsewhere. */
function queueOf(mapping: PolicyResource, resources: readonly PolicyResource[]): PolicyResource | undefined {
  const from = mapping.propertyDependencies.eventSourceArn ?? [];
  if (from.length > 0) return from.find((d) => QUEUES.includes(d.type));
  const arn: unknown = mapping.props.eventSourceArn;
  return resources.find((r) => QUEUES.includes(r.type) && typeof arn === "string" && r.props.arn === arn);
}

const isSqsArn = (value: unknown) => typeof value === "string" && /^arn:aws[a-z-]*:sqs:/.test(value);

export const sqsEventSourceMapping: StackValidationPolicy = {
  name: "lambda-sqs-event-source-mapping",
  description:
    "An event source mapping from SQS reports batch item failures (functionResponseTypes ReportBatchItemFailures), sets scalingConfig.maximumConcurrency, and reads a queue with a redrivePolicy.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set functionResponseTypes: ["ReportBatchItemFailures"] (and return { batchItemFailures } from the function), scalingConfig.maximumConcurrency (2 to 1,000, at most the function\'s reserved concurrency), and the queue\'s redrivePolicy to a dead-letter queue with maxReceiveCount of at least 5.',
  validateStack: (args, report) => {
    for (const mapping of args.resources.filter((r) => MAPPINGS.includes(r.type))) {
      const queue = queueOf(mapping, args.resources);
      if (!queue && !isSqsArn(mapping.props.eventSourceArn)) continue;
      // Lambda developer guide, "Handling errors for an SQS event source in Lambda": without it one failed message fails the batch.
      if (!asList(mapping.props.functionResponseTypes).includes("ReportBatchItemFailures")) {
        report(
          `${subject(mapping)}: functionResponseTypes does not include "ReportBatchItemFailures", so one failed message returns its whole batch to the queue and the others are processed again; set functionResponseTypes: ["ReportBatchItemFailures"] and have the function return { batchItemFailures }.`,
          mapping.urn,
        );
      }
      // "Configuring scaling behavior for SQS event source mappings": without it a mapping scales to 1,000 concurrent batches.
      const maximum: unknown = mapping.props.scalingConfig?.maximumConcurrency;
      if (typeof maximum !== "number" || !(maximum >= 2)) {
        report(
          `${subject(mapping)}: scalingConfig.maximumConcurrency is not set, so Lambda scales the mapping up to 1,000 concurrent batches, beyond the function's reserved concurrency (throttled batches go back to the queue); set scalingConfig.maximumConcurrency, 2 to 1,000 and at most the function's reserved concurrency.`,
          mapping.urn,
        );
      }
      // A queue without a redrive policy keeps a failing message until its retention ends, then deletes it unseen.
      const redrive: unknown = queue?.props.redrivePolicy;
      if (queue && (typeof redrive !== "string" || redrive === "")) {
        report(
          `${subject(queue)}: redrivePolicy is not set, though ${subject(mapping)} reads it, so a message that keeps failing is received again until its retention period ends and is then deleted unseen; set redrivePolicy to a dead-letter queue with maxReceiveCount of at least 5.`,
          queue.urn,
        );
      }
    }
  },
};

export const lambdaPolicies = [sqsEventSourceMapping];
