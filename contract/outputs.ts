/**
 * The stack's outputs: what index.ts exports and what `batch-pipeline` reads (cli/stack/outputs.ts parses
 * the subset it needs and is checked against this shape at compile time). Types only.
 */

/** Every output of the stack, as `pulumi stack output --json` prints it. */
export interface StackOutputValues {
  inputBucketName: string;
  /** Queue ARNs by config key (`high`, `low`, `fargate`…). */
  queueArns: Record<string, string>;
  /** Where the trigger submits start jobs, and where they submit process jobs. */
  startQueueArn: string;
  processQueueArn: string;
  /** Job definition names by config key, the barrier's included. */
  jobDefinitionNames: Record<string, string>;
  startJobDefinitionName: string;
  /** Container log groups by job definition key, the start job's as `start`. */
  logGroupNames: Record<string, string>;
  jobStateLogGroup: string;
  failureTopicArn: string;
  triggerFunctionName: string;
  deadLetterQueueUrl: string;
  orchestratorImage: string;
  computeEnvironmentArns: { spot: string; onDemand: string };
  triggerPrefix: string;
  triggerSuffix: string;
  outputPrefix: string;
  /** Attach to the people and CI roles that run `batch-pipeline` against this stack. */
  operatorPolicyArn: string;
}
