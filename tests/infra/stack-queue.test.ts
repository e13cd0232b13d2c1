/**
 * The program under mocks with `trigger.delivery: queue`: S3 sends the bucket's events to an SQS queue, and a
 * Lambda event source mapping feeds them to the same trigger function in batches (tests/support/stacks.ts
 * QUEUE_STACK). No asynchronous invocation is left: no S3 permission on the function, no invoke config.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DEAD_LETTER_RETENTION_SECONDS, TRIGGER_QUEUE } from "../../contract";
import { ACCOUNT_ID, type MockedStack, ofType, oneOf, type RecordedResource } from "../mocks";
import { deployUnderMocks } from "../support/program";
import { simulate } from "../support/iam";
import { QUEUE_STACK } from "../support/stacks";
import { asList, statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";

let stack: MockedStack;
const one = (type: string, nameIncludes: string): RecordedResource => oneOf(stack, type, nameIncludes);
const queue = () => one("aws:sqs/queue:Queue", "-trigger-queue");
const dlq = () => one("aws:sqs/queue:Queue", "-trigger-dlq");
const fn = () => one("aws:lambda/function:Function", "-trigger-fn");
const bucket = () => one("aws:s3/bucket:Bucket", "-input");
const queuePolicy = () => JSON.parse(one("aws:sqs/queuePolicy:QueuePolicy", "-trigger-queue-policy").inputs.policy);

beforeAll(async () => {
  stack = await deployUnderMocks(QUEUE_STACK);
});

describe("trigger.delivery: queue", () => {
  // Lambda developer guide, "Creating and configuring an Amazon SQS event source mapping": visibility timeout at
  // least 6 × the function's timeout, maxReceiveCount at least 5. SQS developer guide, "Setting-up dead-letter
  // queue retention in Amazon SQS": the dead-letter queue keeps messages longer than the source queue.
  it("creates a standard, encrypted queue whose visibility timeout is 6 × the function's timeout and whose redrive policy moves a message to the dead-letter queue after 5 receives", () => {
    const q = queue().inputs;
    expect(q.visibilityTimeoutSeconds).toBe(6 * fn().inputs.timeout);
    expect(q.visibilityTimeoutSeconds).toBe(360);
    expect(q).toMatchObject({ sqsManagedSseEnabled: true, messageRetentionSeconds: 7 * 24 * 3600 });
    expect(q.fifoQueue ?? false).toBe(false);
    expect(JSON.parse(q.redrivePolicy)).toEqual({ deadLetterTargetArn: dlq().state.arn, maxReceiveCount: 5 });
    expect(dlq().inputs.messageRetentionSeconds).toBe(DEAD_LETTER_RETENTION_SECONDS);
    expect(q.messageRetentionSeconds).toBeLessThan(dlq().inputs.messageRetentionSeconds);
  });

  it("lets only S3 send to the queue, only for the input bucket of this account", () => {
    expect(queuePolicy()).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "S3SendsBucketEvents",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: ["sqs:SendMessage"],
          Resource: [queue().state.arn],
          Condition: { ArnEquals: { "aws:SourceArn": bucket().state.arn }, StringEquals: { "aws:SourceAccount": ACCOUNT_ID } },
        },
      ],
    });
    expect(one("aws:sqs/queuePolicy:QueuePolicy", "-trigger-queue-policy").inputs.queueUrl).toBe(queue().state.url);
  });

  it("sends created objects under the prefix and with the suffix to the queue, saved only after the queue policy exists", () => {
    const notification = one("aws:s3/bucketNotification:BucketNotification", "-trigger-notification");
    expect(notification.inputs.queues).toEqual([{ queueArn: queue().state.arn, events: ["s3:ObjectCreated:*"], filterPrefix: "incoming/", filterSuffix: ".csv" }]);
    expect(notification.inputs.lambdaFunctions).toBeUndefined();
    // S3 checks the destination when the notification is saved (and sends it an s3:TestEvent).
    expect(notification.dependsOn).toContain(one("aws:sqs/queuePolicy:QueuePolicy", "-trigger-queue-policy").name);
  });

  it("feeds the queue to the trigger function through an event source mapping: batches of 10 within 1 s, at most trigger.queueMaxConcurrency at once, partial batch responses", () => {
    const mapping = one("aws:lambda/eventSourceMapping:EventSourceMapping", "-trigger-queue-mapping");
    expect(mapping.inputs).toMatchObject({
      eventSourceArn: queue().state.arn,
      functionName: fn().state.arn,
      batchSize: TRIGGER_QUEUE.batchSize,
      maximumBatchingWindowInSeconds: TRIGGER_QUEUE.batchingWindowSeconds,
      scalingConfig: { maximumConcurrency: 5 },
      functionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect([mapping.inputs.batchSize, mapping.inputs.maximumBatchingWindowInSeconds]).toEqual([10, 1]);
    // Lambda checks the execution role may receive from the queue when it creates the mapping.
    expect(mapping.dependsOn).toContain(one("aws:iam/rolePolicy:RolePolicy", "-trigger-policy").name);
    // The function's reserved concurrency (trigger.maxConcurrency) is at least the mapping's maximum.
    expect(fn().inputs.reservedConcurrentExecutions).toBeGreaterThanOrEqual(mapping.inputs.scalingConfig.maximumConcurrency);
  });

  it("leaves no asynchronous invocation: no S3 permission on the function, no invoke config", () => {
    expect(ofType(stack, "aws:lambda/permission:Permission")).toEqual([]);
    expect(ofType(stack, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")).toEqual([]);
  });

  it("grants the function's role what the mapping calls on the queue and nothing of SQS besides (no SendMessage to the dead-letter queue)", () => {
    const statements = statementsOf(stack).filter((s) => s.policy.endsWith("-trigger-policy"));
    const sqs = statements.filter(({ statement }) => asList(statement.Action).some((a) => a.startsWith("sqs:")));
    expect(sqs.map((s) => s.statement)).toEqual([
      { Sid: "PollQueue", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: [queue().state.arn] },
    ]);
  });

  it("still alarms when the dead-letter queue holds a message", () => {
    expect(one("aws:cloudwatch/metricAlarm:MetricAlarm", "-obs-dlq-not-empty").inputs.dimensions).toEqual({ QueueName: dlq().state.name });
  });

  // Messages expire unseen after the queue's retention: a mapping that stopped polling must not go unnoticed.
  it("alarms to the failure topic when the queue's oldest message has waited an hour", () => {
    expect(one("aws:cloudwatch/metricAlarm:MetricAlarm", "-obs-trigger-queue-stalled").inputs).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queue().state.name },
      statistic: "Maximum",
      threshold: 3600,
      comparisonOperator: "GreaterThanThreshold",
      alarmActions: [one("aws:sns/topic:Topic", "-obs-failures").state.arn],
    });
  });

  it("lets no principal but S3 send to the queue (the queue policy, simulated)", async () => {
    const context = { "aws:SourceArn": bucket().state.arn, "aws:SourceAccount": ACCOUNT_ID };
    const request = { action: "sqs:SendMessage", resource: queue().state.arn, context, why: "another sender" };
    const outcomes = await Promise.all(
      ["sns.amazonaws.com", "events.amazonaws.com", "arn:aws:iam::999988887777:user/someone"].map(async (principal) => `${principal}: ${(await simulate(principal, ACCOUNT_ID, {}, request, queuePolicy())).result}`),
    );
    expect(outcomes.filter((o) => !o.endsWith("Denied"))).toEqual([]);
  });
});

describeIamSimulation("queue delivery", () => stack);
