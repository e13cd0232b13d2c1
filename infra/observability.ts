import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JobStatus } from "@aws-sdk/client-batch";
import { policyJson, serviceAllows } from "./iam";

export interface ObservabilityArgs {
  /** Job state changes of jobs on these queues are recorded. */
  readonly queueArns: readonly pulumi.Input<string>[];
  /** Days to keep the job-state log. */
  readonly logRetentionDays: number;
  /** Alarmed on (to the failure topic) as soon as it holds a message. @default none */
  readonly deadLetterQueue?: aws.sqs.Queue;
  /**
   * The queue in front of the trigger (`trigger.delivery: queue`): alarmed on when its oldest message has waited
   * {@link STALLED_QUEUE_SECONDS}, which no burst the trigger keeps up with reaches (bench/burst.ts: 10,000
   * uploads drained in about 10 minutes at maximum concurrency 2), so the mapping has stopped polling (disabled,
   * or its role lost the queue). Unalarmed, its messages would expire unseen with the queue's retention.
   * @default none
   */
  readonly triggerQueue?: aws.sqs.Queue;
  /** Subscribed to the failure topic. @default none */
  readonly email?: string;
  /**
   * Record the state changes of every array child too (about 5 events per task). Off, the log keeps
   * plain jobs and array parents, whose events carry the children's status summary. @default true
   */
  readonly arrayChildStates?: boolean;
  /** Tags on every resource the component creates. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/** How long the trigger queue's oldest message may wait before the queue counts as stalled (see {@link ObservabilityArgs.triggerQueue}). */
export const STALLED_QUEUE_SECONDS = 3600;

/**
 * The states "Batch Job State Change" events report; the audit log records every one. Not SUBMITTED:
 * Batch creates an event only when an existing job changes state, "Events aren't created for the
 * initial job submission" (AWS Batch user guide, "Job state change events"), so a job's first event is
 * PENDING or RUNNABLE.
 */
export const JOB_STATES = [
  JobStatus.PENDING,
  JobStatus.RUNNABLE,
  JobStatus.STARTING,
  JobStatus.RUNNING,
  JobStatus.SUCCEEDED,
  JobStatus.FAILED,
] as const;

/**
 * Makes job states observable: every "Batch Job State Change" event of the pipeline's queues (every
 * transition after submission) lands in a CloudWatch log group (queryable with Logs Insights), and
 * FAILED jobs are published to an SNS topic.
 */
export class Observability extends pulumi.ComponentResource {
  readonly stateLog: aws.cloudwatch.LogGroup;
  readonly failureTopic: aws.sns.Topic;

  constructor(name: string, args: ObservabilityArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:observability:Observability", name, {}, opts);
    const tags = args.tags ?? {};

    // EventBridge can only deliver to log groups whose name starts with /aws/events/.
    this.stateLog = new aws.cloudwatch.LogGroup(
      `${name}-job-states`,
      { name: `/aws/events/${name}/job-states`, retentionInDays: args.logRetentionDays, tags },
      { parent: this },
    );
    // Not encrypted with the AWS-managed `aws/sns` key: EventBridge and CloudWatch alarms cannot publish
    // to topics using it (their principals are not in that key's policy). Messages carry job names and
    // status reasons only.
    this.failureTopic = new aws.sns.Topic(`${name}-failures`, { tags }, { parent: this });
    if (args.email) {
      new aws.sns.TopicSubscription(
        `${name}-failures-email`,
        { topic: this.failureTopic.arn, protocol: "email", endpoint: args.email },
        { parent: this },
      );
    }

    const pattern = (states: readonly string[], extra: Record<string, unknown> = {}) =>
      pulumi.all([...args.queueArns]).apply((queues) =>
        JSON.stringify({
          source: ["aws.batch"],
          "detail-type": ["Batch Job State Change"],
          detail: { jobQueue: queues, status: states, ...extra },
        }),
      );

    // Children of an array job carry `arrayProperties.index`; their parent (and every plain job) does not.
    const notArrayChild = { arrayProperties: { index: [{ exists: false }] } };
    const allStates = new aws.cloudwatch.EventRule(
      `${name}-job-states`,
      {
        description: `Every job state change on ${name}'s queues`,
        eventPattern: pattern(JOB_STATES, args.arrayChildStates === false ? notArrayChild : {}),
        tags,
      },
      { parent: this },
    );
    const account = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const logPolicy = new aws.cloudwatch.LogResourcePolicy(
      `${name}-events-to-logs`,
      {
        policyName: `${name}-events-to-logs`,
        policyDocument: policyJson([
          // Confused-deputy keys (CloudWatch Logs PutResourcePolicy supports aws:SourceAccount and
          // aws:SourceArn): only this account's job-state rule, or Logs' own delivery in this account.
          serviceAllows("EventBridgeWritesJobStates", ["events.amazonaws.com", "delivery.logs.amazonaws.com"], ["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.interpolate`${this.stateLog.arn}:*`], {
            StringEquals: { "aws:SourceAccount": account.accountId },
            ArnLike: { "aws:SourceArn": [allStates.arn, pulumi.interpolate`arn:${partition.partition}:logs:${region.region}:${account.accountId}:*`] },
          }),
        ]),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-job-states-log`,
      { rule: allStates.name, arn: this.stateLog.arn },
      { parent: this, dependsOn: [logPolicy] },
    );

    // Alerting on the array parent alone keeps a failed 10,000-task step at one message, not 10,000.
    const failedPattern = pattern([JobStatus.FAILED], notArrayChild);
    const failed = new aws.cloudwatch.EventRule(
      `${name}-job-failed`,
      { description: `Failed jobs on ${name}'s queues`, eventPattern: failedPattern, tags },
      { parent: this },
    );
    const topicPolicy = new aws.sns.TopicPolicy(
      `${name}-failures-policy`,
      {
        arn: this.failureTopic.arn,
        policy: policyJson([
          serviceAllows("EventBridgePublishesFailures", "events.amazonaws.com", ["sns:Publish"], [this.failureTopic.arn], { ArnEquals: { "aws:SourceArn": failed.arn } }),
          serviceAllows("CloudWatchPublishesAlarms", "cloudwatch.amazonaws.com", ["sns:Publish"], [this.failureTopic.arn], {
            StringEquals: { "aws:SourceAccount": aws.getCallerIdentityOutput({}, { parent: this }).accountId },
          }),
        ]),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-job-failed-sns`,
      {
        rule: failed.name,
        arn: this.failureTopic.arn,
        inputTransformer: {
          inputPaths: { job: "$.detail.jobName", id: "$.detail.jobId", reason: "$.detail.statusReason", queue: "$.detail.jobQueue" },
          inputTemplate: '"Batch job <job> (<id>) on <queue> FAILED: <reason>"',
        },
      },
      { parent: this, dependsOn: [topicPolicy] },
    );
    /** An alarm to the failure topic when a queue's metric (its maximum over 5 minutes) exceeds `threshold`. */
    const queueAlarm = (alarm: string, queue: aws.sqs.Queue, metricName: string, threshold: number, alarmDescription: string) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${alarm}`,
        {
          alarmDescription,
          namespace: "AWS/SQS",
          metricName,
          dimensions: { QueueName: queue.name },
          statistic: "Maximum",
          period: 300,
          evaluationPeriods: 1,
          threshold,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [this.failureTopic.arn],
          tags,
        },
        { parent: this },
      );
    if (args.deadLetterQueue) {
      queueAlarm("dlq-not-empty", args.deadLetterQueue, "ApproximateNumberOfMessagesVisible", 0, "S3 events the trigger could not submit after its retries; see README, Operations");
    }
    if (args.triggerQueue) {
      queueAlarm("trigger-queue-stalled", args.triggerQueue, "ApproximateAgeOfOldestMessage", STALLED_QUEUE_SECONDS, "S3 events waiting in the trigger's queue for over an hour: is its event source mapping enabled? See README, Operations");
    }
    this.registerOutputs({ stateLogName: this.stateLog.name, failureTopicArn: this.failureTopic.arn });
  }
}
