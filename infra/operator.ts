/**
 * The operator policy: a customer managed IAM policy holding exactly what `batch-pipeline` (cli/) calls
 * for this stack, to attach to the people or CI roles that operate it. Its calls are simulated against
 * AWS's authorization data in tests/infra/iamCalls.ts, and the test that reads every SDK command of cli/
 * fails when the CLI sends one this policy does not cover.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TAG_KEYS } from "../contract";
import { type PolicyStatement, policyJson } from "./iam";

/** Inputs of {@link operatorStatements}, resolved. */
export interface OperatorResources {
  /** ARN of the input bucket. */
  bucketArn: string;
  /** Where `submit` uploads (a run starts only under it). */
  triggerPrefix: string;
  /** The `job-queue` ARNs of the stack: jobs are listed per queue. */
  queueArns: readonly string[];
  /** ARNs (or ARN patterns) of the log groups `logs` reads: the containers' and the job-state log. */
  logGroupArns: readonly string[];
  deadLetterQueueArn: string;
  triggerFunctionArn: string;
  /** The stack's id: `cancel` may terminate only jobs tagged `pipeline:stack=<stack>`. */
  stack: string;
}

/** ARN of a Batch account-and-region's jobs, from one of its queue ARNs. */
const jobsOf = (queueArn: string) => queueArn.replace(/:job-queue\/.*$/, ":job");

/**
 * What each command needs (Service Authorization Reference for each service):
 * - `runs`, `status`, `watch`, `logs`, `cancel`: `batch:ListJobs`, `batch:DescribeJobs`, which have no
 *   resource types (`*`);
 * - `cancel`: `batch:TerminateJob` on the stack's own jobs (`aws:ResourceTag/pipeline:stack`), and on
 *   array children (`job/<parent>:<index>`), which Batch does not tag: that grant reaches every array
 *   child in the account and region (README, IAM section);
 * - `submit`: `s3:PutObject` under the trigger prefix (lib-storage's multipart calls are authorized as
 *   PutObject) and `s3:AbortMultipartUpload` to leave no parts behind when interrupted;
 * - `logs`: `logs:FilterLogEvents` on the stack's log groups;
 * - `redrive`: `sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:ChangeMessageVisibility` on the
 *   dead-letter queue, and `lambda:InvokeFunction` on the trigger.
 */
export function operatorStatements(r: OperatorResources): PolicyStatement[] {
  const jobs = [...new Set(r.queueArns.map(jobsOf))];
  return [
    { Sid: "ReadRuns", Effect: "Allow", Action: ["batch:ListJobs", "batch:DescribeJobs"], Resource: "*" },
    {
      Sid: "CancelOwnJobs",
      Effect: "Allow",
      Action: ["batch:TerminateJob"],
      Resource: jobs.map((j) => `${j}/*`),
      Condition: { StringEquals: { [`aws:ResourceTag/${TAG_KEYS.stack}`]: r.stack } },
    },
    { Sid: "CancelArrayChildren", Effect: "Allow", Action: ["batch:TerminateJob"], Resource: jobs.map((j) => `${j}/*:*`) },
    { Sid: "SubmitFiles", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: [`${r.bucketArn}/${r.triggerPrefix}*`] },
    // FilterLogEvents (the only Logs call of `logs`) is authorized on the log group.
    { Sid: "SearchLogs", Effect: "Allow", Action: ["logs:FilterLogEvents"], Resource: [...r.logGroupArns] },
    {
      Sid: "RedriveDeadLetters",
      Effect: "Allow",
      Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
      Resource: [r.deadLetterQueueArn],
    },
    { Sid: "ReplayThroughTrigger", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [r.triggerFunctionArn] },
  ];
}

/** Args of {@link OperatorPolicy}: the same resources as {@link OperatorResources}, as inputs. */
export type OperatorPolicyArgs = { [K in Exclude<keyof OperatorResources, "logGroupArns" | "queueArns">]: pulumi.Input<OperatorResources[K]> } & {
  logGroupArns: pulumi.Input<string>[];
  queueArns: pulumi.Input<string>[];
  tags?: Record<string, string>;
};

/** A log group's ARN as IAM names it: without the `:*` suffix DescribeLogGroups shows. */
export const logGroupPolicyArn = (arn: string) => arn.replace(/:\*$/, "");

/** The operator policy as a customer managed policy (attach it to whoever runs `batch-pipeline`). */
export class OperatorPolicy extends pulumi.ComponentResource {
  readonly policy: aws.iam.Policy;

  constructor(name: string, args: OperatorPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("batch-pipeline:operator:OperatorPolicy", name, {}, opts);
    const statements = pulumi
      .all([args.bucketArn, args.triggerPrefix, args.queueArns, args.logGroupArns, args.deadLetterQueueArn, args.triggerFunctionArn, args.stack])
      .apply(([bucketArn, triggerPrefix, queueArns, logGroupArns, deadLetterQueueArn, triggerFunctionArn, stack]) =>
        operatorStatements({ bucketArn, triggerPrefix, queueArns, logGroupArns: logGroupArns.map(logGroupPolicyArn), deadLetterQueueArn, triggerFunctionArn, stack }),
      );
    this.policy = new aws.iam.Policy(
      `${name}-policy`,
      {
        description: pulumi.interpolate`Operate ${args.stack} with batch-pipeline: follow, cancel and redrive runs, submit files, read logs`,
        policy: policyJson(statements),
        tags: args.tags,
      },
      // People hold this policy, so no deploy may rewrite it (deploy/policies.ts denies policy versions): a
      // change creates a new policy (the `operatorPolicyArn` output moves to it) and keeps the old one for its
      // holders, whom an administrator moves over. Rewriting it would give its holders whatever a deploy job wrote.
      { parent: this, replaceOnChanges: ["policy"], deleteBeforeReplace: false, retainOnDelete: true },
    );
    this.registerOutputs({ policyArn: this.policy.arn });
  }
}
