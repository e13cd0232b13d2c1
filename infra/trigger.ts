import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ASYNC_INVOCATION,
  DEAD_LETTER_RETENTION_SECONDS,
  encodeJobDefinitions,
  encodeTags,
  IDEMPOTENCY_TABLE_SCHEMA,
  jobTagKeys,
  type OrchestratorMode,
  STACK_ENV,
  TRIGGER_ENV,
  TRIGGER_QUEUE,
  TRIGGER_TIMEOUT_SECONDS,
  type TriggerKeyFilter,
} from "../contract";
import type { WorkflowSpec } from "../workflow/spec";
import { argsFailer } from "../stack/argsError";
import { roleNaming } from "../stack/naming";
import { QUEUE_POLLER_ACTIONS, queueConcurrencyProblem, queueMaxConcurrencyProblem } from "../stack/triggerRules";
import { assumeRolePolicy, type PolicyStatement, policyJson, runJobsStatements, serviceAllows, submitJobStatements } from "./iam";
import type { InputBucket } from "./inputBucket";
import { type ContainerJobDefinition, jobDefinitionNamesOf } from "./jobDefinition";
import type { JobQueue } from "./jobQueue";
import { inlineTriggerHandlerFactory, triggerHandlerFactory } from "./triggerHandler";

export interface TriggerArgs {
  /** The bucket whose "object created" events start runs. */
  readonly bucket: InputBucket;
  /** The only queue the Lambda may submit to. */
  readonly startQueue: JobQueue;
  /** The only job definition the Lambda may submit. */
  readonly startJobDefinition: ContainerJobDefinition;
  /**
   * Which keys start a run (contract/trigger.ts): the notification's filter is `prefix` and `suffix` ("" for
   * any key), and the handler also ignores keys under `outputPrefix` (where jobs write), so the pipeline never
   * starts itself.
   */
  readonly filter: TriggerKeyFilter;
  /** How long a submitted object version is remembered, so a re-delivered event submits nothing. */
  readonly idempotencySeconds: number;
  /** Concurrent executions reserved for (and capping) the Lambda. @default undefined (none reserved, no cap) */
  readonly reservedConcurrency?: number;
  /**
   * How S3's events reach the function (stack config `trigger.delivery`): `async`, S3 invokes it (Lambda retries
   * a failed event twice, then sends it to the dead-letter queue); `queue`, S3 sends them to an SQS queue whose
   * event source mapping invokes it with batches, at most `maxConcurrency` at once (2 to 1,000, and at most
   * `reservedConcurrency`); a failed message is received again, then the queue moves it to the dead-letter queue.
   * @default { kind: "async" }
   */
  readonly delivery?: TriggerDeliveryArgs;
  /** The Powertools for AWS Lambda (TypeScript) layer version the handler loads Powertools from. */
  readonly powertoolsLayerArn: pulumi.Input<string>;
  /** Packages of package.json's `dependencies` left out of the upload (the runtime and the layer have them). */
  readonly excludedPackages: readonly string[];
  /** Days to keep the function's logs. */
  readonly logRetentionDays: number;
  /**
   * With `orchestrator.mode` inline or auto: the trigger plans runs and submits their DAGs itself (functions/inline.ts),
   * to this queue with these definitions, and its role may (auto: also) do what the start job's may.
   * @default undefined (container: every run gets a start job)
   */
  readonly orchestration?: TriggerOrchestrationArgs;
  /** The stack's id: start jobs are tagged `pipeline:stack=<stack>` (see {@link STACK_ENV}). */
  readonly stack: string;
  /** Tags on every resource, and on every job of a run. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/** What the trigger needs to submit runs' DAGs itself (see {@link TriggerArgs.orchestration}). */
export interface TriggerOrchestrationArgs {
  readonly mode: Exclude<OrchestratorMode, "container">;
  /** The stack's workflow, validated at preview: serialized with the handler (the Lambda's environment holds 4 KB). */
  readonly workflow: WorkflowSpec;
  readonly processQueue: JobQueue;
  /** Process job definitions by workflow key (the planner's `barrier` included). */
  readonly jobDefinitions: Readonly<Record<string, ContainerJobDefinition>>;
  /** `trigger.outputPrefix`: each run writes under `<outputRoot><runId>/`. @default none */
  readonly outputRoot?: string;
}

/**
 * Lambda: "The total size of the set [of environment variables] doesn't exceed 4 KB" (Lambda quotas, "Function
 * configuration, deployment, and execution"). What Lambda measures is the variables as one JSON object: its
 * refusal reads "exceeded the 4KB limit. String measured: {"NAME":"value",…}" (quoted in
 * github-aws-runners/terraform-aws-github-runner#3594), so quotes, colons, commas and the escaping of `"` in a
 * JSON value (the job definitions', the tags') count too.
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

/** The variables' size as Lambda measures it: their JSON object, in UTF-8 bytes. */
export function environmentBytes(variables: Readonly<Record<string, string>>): number {
  return Buffer.byteLength(JSON.stringify(variables));
}

/** How S3's events reach the trigger function (see {@link TriggerArgs.delivery}). */
export type TriggerDeliveryArgs = { readonly kind: "async" } | { readonly kind: "queue"; readonly maxConcurrency: number };

/** The Trigger component's args break a rule (checked before any resource is created). */
export class TriggerArgsError extends Error {
  override readonly name = "TriggerArgsError";
}

/**
 * Checks the delivery's args before anything is created: the queue mapping's maximum concurrency is one Lambda
 * accepts and no higher than the function's reserved concurrency (stack/triggerRules.ts, which the config shares).
 * @throws TriggerArgsError naming the component, the field, the value and the rule
 */
export function validateTriggerDelivery(name: string, delivery: TriggerDeliveryArgs, reservedConcurrency: number | undefined): void {
  if (delivery.kind !== "queue") return;
  const problem = queueMaxConcurrencyProblem(delivery.maxConcurrency) ?? queueConcurrencyProblem(delivery.maxConcurrency, reservedConcurrency);
  if (problem) argsFailer(TriggerArgsError, "Trigger", name)(problem.field, delivery.maxConcurrency, problem.rule);
}

/**
 * The S3 trigger: an inline callback Lambda that turns "object created" events into exactly one start
 * job per object version. It may submit only the start job definition to the start queue, remembers
 * submissions in a DynamoDB table (with TTL) so re-delivered events submit nothing, and sends events
 * that still fail after Lambda's retries (or, with the `queue` delivery, messages received too often) to an
 * SQS dead-letter queue.
 */
export class Trigger extends pulumi.ComponentResource {
  readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
  readonly role: aws.iam.Role;
  readonly idempotencyTable: aws.dynamodb.Table;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly notification: aws.s3.BucketNotification;
  /** `queue` delivery: the queue S3 sends its events to, and the event source mapping that polls it. */
  readonly queue?: aws.sqs.Queue;
  readonly eventSourceMapping?: aws.lambda.EventSourceMapping;

  constructor(name: string, args: TriggerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:trigger:Trigger", name, {}, opts);
    const tags = args.tags ?? {};
    const delivery = args.delivery ?? { kind: "async" };
    validateTriggerDelivery(name, delivery, args.reservedConcurrency);

    this.idempotencyTable = new aws.dynamodb.Table(
      `${name}-idempotency`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: IDEMPOTENCY_TABLE_SCHEMA.hashKey,
        attributes: IDEMPOTENCY_TABLE_SCHEMA.attributes.map((a) => ({ ...a })),
        ttl: { attributeName: IDEMPOTENCY_TABLE_SCHEMA.ttlAttribute, enabled: true },
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: true },
        tags,
      },
      { parent: this },
    );

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        // The longest SQS keeps anything: two weeks to notice, fix and redrive.
        messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
        sqsManagedSseEnabled: true,
        tags,
      },
      { parent: this },
    );

    if (delivery.kind === "queue") {
      this.queue = new aws.sqs.Queue(
        `${name}-queue`,
        {
          visibilityTimeoutSeconds: TRIGGER_QUEUE.visibilityTimeoutSeconds,
          // Shorter than the dead-letter queue's, which counts from the message's first enqueue (contract/delivery.ts).
          messageRetentionSeconds: TRIGGER_QUEUE.retentionSeconds,
          sqsManagedSseEnabled: true,
          redrivePolicy: this.deadLetterQueue.arn.apply((deadLetterTargetArn) => JSON.stringify({ deadLetterTargetArn, maxReceiveCount: TRIGGER_QUEUE.maxReceiveCount })),
          tags,
        },
        { parent: this },
      );
    }

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${name}`, retentionInDays: args.logRetentionDays, tags },
      { parent: this },
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      { ...roleNaming(`${name}-role`), description: `S3 trigger ${name}: ${args.orchestration?.mode === "inline" ? "submits runs' DAGs" : args.orchestration ? "submits start jobs or runs' DAGs" : "submits start jobs"}`, assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com", { parent: this }), tags },
      { parent: this },
    );
    // What reaches the function through SQS: asynchronous invocation's on-failure destination sends to the
    // dead-letter queue with the function's role; the event source mapping receives and deletes the queue's
    // messages with it (the queue's redrive policy moves a message to the dead-letter queue, no role involved).
    const sqsGrant: pulumi.Output<PolicyStatement> = this.queue
      ? this.queue.arn.apply((queue): PolicyStatement => ({ Sid: "PollQueue", Effect: "Allow", Action: [...QUEUE_POLLER_ACTIONS], Resource: [queue] }))
      : this.deadLetterQueue.arn.apply((dlq): PolicyStatement => ({ Sid: "DeadLetter", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [dlq] }));
    // What the trigger submits: start jobs (container), the runs' DAGs (inline), or either (auto, by the plan's size).
    const orchestration = args.orchestration;
    const submitting = {
      queues: [...(orchestration?.mode !== "inline" ? [args.startQueue] : []), ...(orchestration ? [orchestration.processQueue] : [])],
      definitions: [...(orchestration?.mode !== "inline" ? [args.startJobDefinition] : []), ...Object.values(orchestration?.jobDefinitions ?? {})],
    };
    const dagGrants: pulumi.Output<PolicyStatement[]> = orchestration
      ? orchestration.processQueue.arn.apply((queueArn) => runJobsStatements(queueArn, args.stack))
      : pulumi.output([]);
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.name,
        policy: policyJson(
          pulumi
            .all([
              submitJobStatements(submitting.queues, submitting.definitions, { keys: jobTagKeys(tags), stack: args.stack }),
              this.idempotencyTable.arn,
              sqsGrant,
              this.logGroup.arn,
              dagGrants,
            ])
            .apply(([submit, table, sqs, logs, dag]): PolicyStatement[] => [
              ...(submit as PolicyStatement[]),
              ...(dag as PolicyStatement[]),
              {
                // Exactly what Powertools' DynamoDB persistence layer calls.
                Sid: "Idempotency",
                Effect: "Allow",
                Action: [...IDEMPOTENCY_TABLE_SCHEMA.actions],
                Resource: [table],
              },
              sqs,
              { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logs}:*`] },
            ]),
        ),
      },
      { parent: this },
    );

    const variables: Record<string, pulumi.Input<string>> = {
      [TRIGGER_ENV.startQueue]: args.startQueue.arn,
      [TRIGGER_ENV.startJobDefinition]: args.startJobDefinition.name,
      [TRIGGER_ENV.idempotencyTable]: this.idempotencyTable.name,
      [TRIGGER_ENV.idempotencySeconds]: String(args.idempotencySeconds),
      [TRIGGER_ENV.ignorePrefix]: args.filter.outputPrefix ?? "",
      // The handler checks every record against the notification's own bucket and filter again.
      [TRIGGER_ENV.bucket]: args.bucket.name,
      [TRIGGER_ENV.keyPrefix]: args.filter.prefix,
      [TRIGGER_ENV.keySuffix]: args.filter.suffix,
      // The stack's tags follow each run (start job, then every process job) for cost allocation.
      [TRIGGER_ENV.jobTags]: encodeTags(tags),
      [STACK_ENV]: args.stack,
      ...(orchestration ? inlineEnvironment(orchestration) : {}),
    };
    this.function = new aws.lambda.CallbackFunction(
      `${name}-fn`,
      {
        role: this.role,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        memorySize: 256,
        timeout: TRIGGER_TIMEOUT_SECONDS,
        reservedConcurrentExecutions: args.reservedConcurrency,
        callbackFactory: orchestration ? inlineTriggerHandlerFactory(orchestration.workflow) : triggerHandlerFactory,
        // The upload is the serialized handler only: the SDK is in the runtime, Powertools in its layer.
        codePathOptions: { extraExcludePackages: [...args.excludedPackages] },
        layers: [args.powertoolsLayerArn],
        environment: { variables: withinEnvironmentLimit(name, variables) },
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        tags,
      },
      // Lambda must not run before it may write its logs and submit.
      { parent: this, dependsOn: [rolePolicy] },
    );

    const notified = {
      events: ["s3:ObjectCreated:*"],
      filterPrefix: args.filter.prefix,
      filterSuffix: args.filter.suffix === "" ? undefined : args.filter.suffix,
    };
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    if (delivery.kind === "queue" && this.queue) {
      // Only S3, and only for this bucket of this account, may send to the queue (S3 user guide, "Walkthrough:
      // Configuring a bucket for notifications (SNS topic or SQS queue)": aws:SourceArn and aws:SourceAccount).
      const queuePolicy = new aws.sqs.QueuePolicy(
        `${name}-queue-policy`,
        {
          queueUrl: this.queue.url,
          policy: policyJson([
            serviceAllows("S3SendsBucketEvents", "s3.amazonaws.com", ["sqs:SendMessage"], [this.queue.arn], {
              ArnEquals: { "aws:SourceArn": args.bucket.arn },
              StringEquals: { "aws:SourceAccount": account },
            }),
          ]),
        },
        { parent: this },
      );
      // Lambda polls the queue and invokes the function synchronously with batches; the function answers which
      // messages failed (ReportBatchItemFailures), so only those are received again.
      this.eventSourceMapping = new aws.lambda.EventSourceMapping(
        `${name}-queue-mapping`,
        {
          eventSourceArn: this.queue.arn,
          functionName: this.function.arn,
          batchSize: TRIGGER_QUEUE.batchSize,
          maximumBatchingWindowInSeconds: TRIGGER_QUEUE.batchingWindowSeconds,
          scalingConfig: { maximumConcurrency: delivery.maxConcurrency },
          functionResponseTypes: ["ReportBatchItemFailures"],
          tags,
        },
        // Lambda checks that the execution role may receive from the queue when the mapping is created.
        { parent: this, dependsOn: [rolePolicy] },
      );
      this.notification = new aws.s3.BucketNotification(
        `${name}-notification`,
        { bucket: args.bucket.bucket.id, queues: [{ queueArn: this.queue.arn, ...notified }] },
        // S3 checks it may send to the queue when the notification is saved (and sends it an s3:TestEvent).
        { parent: this, dependsOn: [queuePolicy, ...args.bucket.ready] },
      );
    } else {
      new aws.lambda.FunctionEventInvokeConfig(
        `${name}-async`,
        {
          functionName: this.function.name,
          // Lambda's maximum: the first attempt plus two retries, then the dead-letter queue.
          maximumRetryAttempts: ASYNC_INVOCATION.retryAttempts,
          maximumEventAgeInSeconds: ASYNC_INVOCATION.maxEventAgeSeconds,
          destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
        },
        { parent: this },
      );
      const permission = new aws.lambda.Permission(
        `${name}-s3-invoke`,
        {
          action: "lambda:InvokeFunction",
          function: this.function.name,
          principal: "s3.amazonaws.com",
          sourceArn: args.bucket.arn,
          sourceAccount: account,
        },
        { parent: this },
      );
      this.notification = new aws.s3.BucketNotification(
        `${name}-notification`,
        { bucket: args.bucket.bucket.id, lambdaFunctions: [{ lambdaFunctionArn: this.function.arn, ...notified }] },
        // S3 checks it may invoke the function when the notification is saved.
        { parent: this, dependsOn: [permission, ...args.bucket.ready] },
      );
    }

    this.registerOutputs({
      functionName: this.function.name,
      deadLetterQueueUrl: this.deadLetterQueue.url,
      ...(this.queue ? { queueUrl: this.queue.url } : {}),
      idempotencyTableName: this.idempotencyTable.name,
    });
  }
}

/**
 * The variables an inline or auto trigger reads besides the start job's (functions/settings.ts): the mode, the
 * process queue, the job definitions' names and the output root ({@link withinEnvironmentLimit} checks the whole
 * environment's size).
 */
function inlineEnvironment(orchestration: TriggerOrchestrationArgs): Record<string, pulumi.Input<string>> {
  return {
    [TRIGGER_ENV.orchestratorMode]: orchestration.mode,
    [TRIGGER_ENV.processQueue]: orchestration.processQueue.arn,
    [TRIGGER_ENV.jobDefinitions]: jobDefinitionNamesOf(orchestration.jobDefinitions).apply(encodeJobDefinitions),
    ...(orchestration.outputRoot !== undefined ? { [TRIGGER_ENV.outputRoot]: orchestration.outputRoot } : {}),
  };
}

/**
 * `variables`, once known, if Lambda accepts their size ({@link LAMBDA_ENVIRONMENT_MAX_BYTES}); else the deployment fails naming it.
 *
 * The check runs in an apply, so only on known values: at `pulumi preview` of a new stack (or when a resource
 * whose name or ARN the environment holds is replaced: a job definition, a queue, the table, the bucket) those
 * autonamed values are unknown and the apply does not run, so the preview passes and `pulumi up` fails here, before
 * the function is created. Once those resources exist, a preview knows their names and fails as `up` would. Under
 * the tests' runtime mocks every value is known.
 */
export function withinEnvironmentLimit(name: string, variables: Record<string, pulumi.Input<string>>): pulumi.Output<Record<string, string>> {
  return pulumi.all(variables).apply((known) => {
    const bytes = environmentBytes(known);
    if (bytes > LAMBDA_ENVIRONMENT_MAX_BYTES) {
      argsFailer(TriggerArgsError, "Trigger", name)("environment", `${bytes} bytes`, `Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES} bytes of environment variables in all; shorten the job definition keys or the tags`);
    }
    return known;
  });
}
