/**
 * The AWS calls each role of the stack really makes, as AWS authorizes them, built from a mocked stack
 * by the runtime code itself: the trigger's request comes from `buildStartJobRequest` with the
 * Lambda's own environment, the orchestrator's from `readInputs` + `planWorkflow` with the start job
 * definition's environment. Each call names the resource ARN AWS evaluates and the context keys it
 * carries (tags sent, `s3:prefix`, `aws:SecureTransport`, the job's resource tags).
 *
 * `allowed` must simulate as Allowed; `denied` are the calls least privilege must refuse.
 * `tests/infra/iamCallCoverage.test.ts` fails when runtime code sends an SDK command no table lists.
 */
import { parseTriggerSettings } from "../../functions/settings";
import { buildStartJobRequest } from "../../functions/startRequest";
import { computeRunId } from "../../contract/run";
import { readInputs } from "../../jobs/inputs";
import { START_JOB_ENV, TAG_KEYS, TRIGGER_ENV } from "../../contract";
import type { OrchestratorMode } from "../../contract/orchestration";
import { planWorkflow } from "../../workflow/planner";
import { parseWorkflowSpecJson } from "../../workflow/spec";
import type { MockedStack, RecordedResource } from "../mocks";
import { ACCOUNT_ID, REGION } from "../mocks";
import type { AwsRequest, PolicyDocument } from "../support/iam";

export interface RoleCalls {
  /** Logical name of the role. */
  role: string;
  /** The role session AWS sees as the caller. */
  principal: string;
  /** The role's inline policies by name. */
  policies: Record<string, PolicyDocument>;
  allowed: AwsRequest[];
  denied: AwsRequest[];
  /** Resource policies that apply to some calls (the bucket policy), by the ARN prefix they govern. */
  resourcePolicies?: { arnPrefix: string; policy: PolicyDocument }[];
}

const JOB_ID = "5f0c6d7e-1a2b-4c3d-9e8f-0123456789ab";
const OTHER_JOB_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const batchArn = (resource: string) => `arn:aws:batch:${REGION}:${ACCOUNT_ID}:${resource}`;
const newJobArn = batchArn(`job/${JOB_ID}`);

/** The tags of a SubmitJob request as the context keys AWS evaluates with them. */
export function tagContext(tags: Record<string, string> | undefined): Record<string, string | string[]> {
  const entries = Object.entries(tags ?? {});
  return { "aws:TagKeys": entries.map(([k]) => k), ...Object.fromEntries(entries.map(([k, v]) => [`aws:RequestTag/${k}`, v])) };
}

/**
 * SubmitJob with tags, as AWS authorizes it: `batch:SubmitJob` on the queue, the job definition
 * revision and the job it creates; `batch:TagResource` on the same three (Service Authorization
 * Reference; a real denial names `job-definition/NAME:4`).
 */
export function submitJobCalls(queueArn: string, definitionArnPrefix: string, tags: Record<string, string> | undefined, why: string): AwsRequest[] {
  const context = tagContext(tags);
  // Any revision: Batch resolves a name to its latest ACTIVE revision.
  const resources = [queueArn, `${definitionArnPrefix}:7`, newJobArn];
  const calls = ["batch:SubmitJob", "batch:TagResource"].flatMap((action) => resources.map((resource) => ({ action, resource, context, why })));
  // Whether AWS shows the job being created with the request's tags as its resource tags is not
  // documented: it must be allowed either way.
  const stack = tags?.[TAG_KEYS.stack];
  if (stack !== undefined) calls.push({ action: "batch:TagResource", resource: newJobArn, context: { ...context, [`aws:ResourceTag/${TAG_KEYS.stack}`]: stack }, why });
  return calls;
}

/**
 * Tagging that would let a submitter move a job into (or out of) a stack's TerminateJob scope: tagging
 * with another stack's id, and re-tagging a job of another stack with this one's.
 */
function retagging(tags: Record<string, string> | undefined): AwsRequest[] {
  const foreign = { ...tags, [TAG_KEYS.stack]: "another-stack" };
  return [
    { action: "batch:TagResource", resource: newJobArn, context: tagContext(foreign), why: "tag a job with another stack's id" },
    {
      action: "batch:TagResource",
      resource: batchArn(`job/${OTHER_JOB_ID}`),
      context: { ...tagContext(tags), [`aws:ResourceTag/${TAG_KEYS.stack}`]: "another-stack" },
      why: "re-tag another stack's job as this stack's, then terminate it",
    },
  ];
}

function roleByName(stack: MockedStack, suffix: string): RecordedResource {
  const roles = stack.resources.filter((r) => r.type === "aws:iam/role:Role" && r.name.endsWith(suffix));
  if (roles.length !== 1) throw new Error(`expected one role *${suffix}, found ${roles.map((r) => r.name).join(", ") || "none"}`);
  return roles[0]!;
}

function inlinePolicies(stack: MockedStack, role: RecordedResource): Record<string, PolicyDocument> {
  return Object.fromEntries(
    stack.resources
      .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === role.state.name)
      .map((r) => [r.name, JSON.parse(r.inputs.policy) as PolicyDocument]),
  );
}

const principalOf = (role: RecordedResource) => `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role.state.name}/session`;
const definitionNamed = (stack: MockedStack, name: string) =>
  stack.resources.find((r) => r.type === "aws:batch/jobDefinition:JobDefinition" && r.state.name === name) ??
  (() => {
    throw new Error(`no job definition named ${name}`);
  })();
const envOf = (jd: RecordedResource): Record<string, string> =>
  Object.fromEntries((JSON.parse(jd.inputs.containerProperties).environment ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));

/** The trigger's `orchestrator.mode`, as its environment tells the handler (unset: container). */
export function deployedTriggerMode(stack: MockedStack): OrchestratorMode {
  const fn = stack.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-trigger-fn"))!;
  return (fn.inputs.environment.variables[TRIGGER_ENV.orchestratorMode] as OrchestratorMode | undefined) ?? "container";
}

/**
 * The trigger Lambda: per object version (idempotently) a start job (`orchestrator.mode` container, and auto for a
 * large plan), or the run's DAG itself (inline, and auto for a plan of at most 20 SubmitJob calls), logs,
 * dead-letters.
 */
async function triggerCalls(stack: MockedStack): Promise<RoleCalls> {
  const role = roleByName(stack, "-trigger-role");
  const fn = stack.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-trigger-fn"))!;
  const settings = parseTriggerSettings(fn.inputs.environment.variables);
  const mode = deployedTriggerMode(stack);
  const object = { bucket: "input-bucket", key: "incoming/a file+1.csv", versionId: "v1", sizeBytes: 12, eTag: "e", index: 0, eventName: "ObjectCreated:Put" };
  const runId = await computeRunId(object);
  const request = buildStartJobRequest(object, runId, settings.target);
  const startDefinition = definitionNamed(stack, settings.target.jobDefinition);
  const table = stack.resources.find((r) => r.type === "aws:dynamodb/table:Table" && r.name.endsWith("-trigger-idempotency"))!;
  const dlq = stack.resources.find((r) => r.type === "aws:sqs/queue:Queue" && r.name.endsWith("-trigger-dlq"))!;
  // trigger.delivery: queue. The queue S3 sends to, which the event source mapping polls with the function's role.
  const queue = stack.resources.find((r) => r.type === "aws:sqs/queue:Queue" && r.name.endsWith("-trigger-queue"));
  const logs = stack.resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name.endsWith("-trigger-logs"))!;
  const processQueue = envOf(startDefinition).PIPELINE_PROCESS_QUEUE!;
  const processDefinitions = Object.values(JSON.parse(envOf(startDefinition).PIPELINE_JOB_DEFINITIONS!) as Record<string, string>);
  const why = "functions/handler.ts createTriggerHandler: batch.submitJob(buildStartJobRequest(...))";
  const stream = `${logs.state.arn}:log-stream:2026/12/01/[$LATEST]0123456789abcdef`;
  const dag = settings.inline ? inlineCalls(stack, settings.inline.target, { queue: settings.target.jobQueue, definition: startDefinition }, object, runId) : undefined;
  const startJobs = mode !== "inline";
  return {
    role: role.name,
    principal: principalOf(role),
    policies: inlinePolicies(stack, role),
    allowed: [
      ...(startJobs ? submitJobCalls(settings.target.jobQueue, startDefinition.state.arnPrefix, request.tags, why) : []),
      ...(dag?.allowed ?? []),
      // Powertools' DynamoDBPersistenceLayer: claim (PutItem), read on conflict (GetItem), complete
      // (UpdateItem), release a failed claim (DeleteItem).
      ...["GetItem", "PutItem", "UpdateItem", "DeleteItem"].map((a) => ({ action: `dynamodb:${a}`, resource: table.state.arn, why: "Powertools idempotency (DynamoDBPersistenceLayer)" })),
      ...(queue
        ? // What the event source mapping calls on the queue with the function's execution role (Lambda developer
          // guide, "Creating and configuring an Amazon SQS event source mapping": AWSLambdaSQSQueueExecutionRole).
          ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes"].map((a) => ({ action: `sqs:${a}`, resource: queue.state.arn as string, why: "the event source mapping polls the queue" }))
        : // Lambda's on-failure destination sends with the function's execution role.
          [{ action: "sqs:SendMessage", resource: dlq.state.arn as string, why: "async invocation on-failure destination" }]),
      { action: "logs:CreateLogStream", resource: stream, why: "Lambda runtime logs" },
      { action: "logs:PutLogEvents", resource: stream, why: "Lambda runtime logs" },
    ],
    denied: [
      ...(dag
        ? dag.denied
        : [
            { action: "batch:SubmitJob", resource: processQueue, context: tagContext(request.tags), why: "the trigger submits to the start queue only" },
            { action: "batch:SubmitJob", resource: `${definitionNamed(stack, processDefinitions[0]!).state.arnPrefix}:1`, context: tagContext(request.tags), why: "only the start job definition" },
            { action: "batch:TerminateJob", resource: newJobArn, context: { [`aws:ResourceTag/${TAG_KEYS.stack}`]: request.tags?.[TAG_KEYS.stack] ?? "" }, why: "the trigger never terminates" },
            // orchestrator.mode container: the trigger reads no jobs (only an inline or auto trigger follows a DAG).
            { action: "batch:ListJobs", resource: "*", why: "a container-mode trigger lists no jobs" },
            { action: "batch:DescribeJobs", resource: "*", why: "a container-mode trigger describes no jobs" },
          ]),
      { action: "batch:TagResource", resource: newJobArn, context: tagContext({ ...request.tags, owner: "someone" }), why: "only the tag keys the pipeline sends" },
      ...retagging(request.tags),
      { action: "dynamodb:Scan", resource: table.state.arn, why: "only the persistence layer's four calls" },
      { action: "dynamodb:PutItem", resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/another-table`, why: "only its own table" },
      { action: "logs:PutLogEvents", resource: `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/other:log-stream:x`, why: "only its own log group" },
      ...(queue
        ? [
            { action: "sqs:ReceiveMessage", resource: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:another-queue`, why: "only its own queue" },
            { action: "sqs:ReceiveMessage", resource: dlq.state.arn as string, why: "the dead-letter queue is the operators' (redrive)" },
            { action: "sqs:SendMessage", resource: queue.state.arn as string, why: "only S3 sends to the queue" },
            { action: "sqs:SendMessage", resource: dlq.state.arn as string, why: "the queue's redrive policy dead-letters, not the role" },
            { action: "sqs:ChangeMessageVisibility", resource: queue.state.arn as string, why: "the mapping lets a failed message wait out its visibility timeout" },
          ]
        : []),
    ],
  };
}

/**
 * `orchestrator.mode` inline or auto: what the trigger sends when it submits a run's DAG itself, built as
 * functions/inline.ts builds it: the stack's workflow (the one infra/pipeline.ts hands both the trigger's factory
 * and the start job, read here from the start job definition's environment) planned with the trigger's own target
 * (`PIPELINE_PROCESS_QUEUE`, `PIPELINE_JOB_DEFINITIONS`, `PIPELINE_OUTPUT_ROOT`, the stack and its tags, read from
 * its environment by functions/settings.ts), each job's SubmitJob (and its TagResource), then batch/'s reads and
 * terminations. Denied: what the DAG never needs, and what a holder of the role would try next.
 */
function inlineCalls(
  stack: MockedStack,
  target: NonNullable<ReturnType<typeof parseTriggerSettings>["inline"]>["target"],
  start: { queue: string; definition: RecordedResource },
  object: { bucket: string; key: string; versionId: string; sizeBytes: number; eTag: string },
  runId: string,
): { allowed: AwsRequest[]; denied: AwsRequest[] } {
  const startQueue = start.queue;
  const startDefinition = start.definition;
  const workflow = parseWorkflowSpecJson(envOf(startDefinition)[START_JOB_ENV.workflow]!, { jobDefinitionKeys: Object.keys(target.jobDefinitions) });
  const input = { bucket: object.bucket, key: object.key, versionId: object.versionId, sizeBytes: object.sizeBytes, eTag: object.eTag };
  const plan = planWorkflow(workflow, { ...target, runId, input });
  const tags = plan.jobs[0]!.request.tags;
  const ownJob = { [`aws:ResourceTag/${TAG_KEYS.stack}`]: tags?.[TAG_KEYS.stack] ?? "" };
  const submit = plan.jobs.flatMap((job) =>
    submitJobCalls(target.jobQueue, definitionNamed(stack, job.request.jobDefinition).state.arnPrefix, job.request.tags, `functions/inline.ts → batch/submitJob.ts submitJob: ${job.id}`),
  );
  const processDefinition = definitionNamed(stack, target.jobDefinitions[Object.keys(target.jobDefinitions)[0]!]!);
  const foreign = tagContext({ ...tags, [TAG_KEYS.stack]: "another-stack" });
  const processRole = stack.resources.find((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-process-role"))!;
  return {
    allowed: [
      ...dedupe(submit),
      ...runJobsCalls(ownJob, "functions/inline.ts (undoing a DAG past the invocation's budget)"),
    ],
    denied: [
      ...(deployedTriggerMode(stack) === "inline"
        ? [
            { action: "batch:SubmitJob", resource: startQueue, context: tagContext(tags), why: "an inline trigger submits no start job: not the start queue" },
            { action: "batch:SubmitJob", resource: `${startDefinition.state.arnPrefix}:1`, context: tagContext(tags), why: "an inline trigger submits no start job: not the start job definition" },
            { action: "batch:TagResource", resource: `${startDefinition.state.arnPrefix}:1`, context: tagContext(tags), why: "an inline trigger submits no start job: no tags on the start job definition" },
          ]
        : []),
      { action: "batch:SubmitJob", resource: batchArn("job-queue/another-teams-queue"), context: tagContext(tags), why: "another team's queue in the same account" },
      { action: "batch:SubmitJob", resource: batchArn("job-definition/another-teams-definition:3"), context: tagContext(tags), why: "another team's job definition (its role)" },
      ...[target.jobQueue, `${processDefinition.state.arnPrefix}:7`, newJobArn].map((resource) => ({ action: "batch:TagResource", resource, context: foreign, why: "SubmitJob to the process queue with another stack's pipeline:stack tag" })),
      { action: "batch:TagResource", resource: target.jobQueue, context: tagContext({ ...tags, owner: "someone" }), why: "SubmitJob to the process queue with a tag key the pipeline never sends" },
      { action: "batch:TerminateJob", resource: batchArn(`job/${OTHER_JOB_ID}`), context: { [`aws:ResourceTag/${TAG_KEYS.stack}`]: "another-stack" }, why: "another stack's job" },
      { action: "batch:TerminateJob", resource: batchArn(`job/${OTHER_JOB_ID}`), context: {}, why: "another application's untagged job" },
      { action: "batch:CancelJob", resource: batchArn(`job/${JOB_ID}`), context: ownJob, why: "no code cancels" },
      { action: "batch:RegisterJobDefinition", resource: batchArn("job-definition/forged"), why: "a definition of its own choosing (image, role)" },
      { action: "batch:UpdateJobQueue", resource: target.jobQueue, why: "the queue is the stack's, not the trigger's" },
      { action: "iam:PassRole", resource: processRole.state.arn as string, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" }, why: "passing the process role to a job of its own" },
    ],
  };
}

/**
 * trigger.delivery: queue. S3 sending the bucket's events to the queue, as the queue policy alone authorizes it
 * (a service principal has no identity policy): only S3, only for the input bucket of this account (S3 user
 * guide, "Walkthrough: Configuring a bucket for notifications (SNS topic or SQS queue)").
 */
function s3NotificationCalls(stack: MockedStack): RoleCalls[] {
  const queue = stack.resources.find((r) => r.type === "aws:sqs/queue:Queue" && r.name.endsWith("-trigger-queue"));
  if (!queue) return [];
  const written = stack.resources.find((r) => r.type === "aws:sqs/queuePolicy:QueuePolicy" && r.inputs.queueUrl === queue.state.url)!;
  const bucket = stack.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name.endsWith("-input"))!;
  const arn = queue.state.arn as string;
  const from = (sourceArn: string, sourceAccount: string) => ({ "aws:SourceArn": sourceArn, "aws:SourceAccount": sourceAccount });
  return [
    {
      role: written.name,
      principal: "s3.amazonaws.com",
      policies: {},
      resourcePolicies: [{ arnPrefix: arn, policy: JSON.parse(written.inputs.policy) }],
      allowed: [{ action: "sqs:SendMessage", resource: arn, context: from(bucket.state.arn, ACCOUNT_ID), why: "the input bucket's event notification" }],
      denied: [
        { action: "sqs:SendMessage", resource: arn, context: from("arn:aws:s3:::someone-elses-bucket", ACCOUNT_ID), why: "another bucket's notifications" },
        { action: "sqs:SendMessage", resource: arn, context: from(bucket.state.arn, "999988887777"), why: "a bucket of that name in another account" },
        { action: "sqs:ReceiveMessage", resource: arn, context: from(bucket.state.arn, ACCOUNT_ID), why: "S3 only sends" },
      ],
    },
  ];
}

/** The orchestrator start job: plans the run with the stack's own settings and submits it. */
async function orchestratorCalls(stack: MockedStack): Promise<RoleCalls> {
  const role = roleByName(stack, "-orchestrator-job-role");
  const startDefinition = stack.resources.find((r) => r.type === "aws:batch/jobDefinition:JobDefinition" && r.name.endsWith("-orchestrator-start-jd"))!;
  const trigger = stack.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-trigger-fn"))!;
  const startQueue = trigger.inputs.environment.variables.START_QUEUE as string;
  // The start job's environment: the definition's own plus what the trigger overrides per object.
  const env = {
    ...envOf(startDefinition),
    PIPELINE_RUN_ID: "0123456789abcdef01234567",
    PIPELINE_INPUT_BUCKET: "input-bucket",
    PIPELINE_INPUT_KEY: "incoming/a file.csv",
    PIPELINE_INPUT_VERSION_ID: "v1",
    PIPELINE_INPUT_SIZE: "1000000",
    PIPELINE_INPUT_ETAG: "e",
    AWS_BATCH_JOB_ID: OTHER_JOB_ID,
    AWS_BATCH_JOB_ATTEMPT: "1",
  };
  const inputs = readInputs(env);
  const plan = planWorkflow(inputs.workflow, {
    runId: inputs.runId,
    input: inputs.input,
    jobDefinitions: inputs.jobDefinitions,
    jobQueue: inputs.jobQueue,
    tags: inputs.tags,
    stack: inputs.stack,
  });
  const stackTag = plan.jobs[0]!.request.tags?.[TAG_KEYS.stack];
  const submit = plan.jobs.flatMap((job) =>
    submitJobCalls(inputs.jobQueue, definitionNamed(stack, job.request.jobDefinition).state.arnPrefix, job.request.tags, `batch/submitJob.ts submitJob: ${job.id}`),
  );
  const ownJob = { [`aws:ResourceTag/${TAG_KEYS.stack}`]: stackTag ?? "" };
  const tags = plan.jobs[0]!.request.tags;
  return {
    role: role.name,
    principal: principalOf(role),
    policies: inlinePolicies(stack, role),
    allowed: [
      ...dedupe(submit),
      ...runJobsCalls(ownJob, "jobs/ (jobs/wait.ts, jobs/ownership.ts: start-job namesakes, duplicates)"),
    ],
    denied: [
      { action: "batch:SubmitJob", resource: startQueue === inputs.jobQueue ? batchArn("job-queue/another-queue") : startQueue, context: tagContext(tags), why: "only the process queue" },
      { action: "batch:SubmitJob", resource: `${startDefinition.state.arnPrefix}:1`, context: tagContext(tags), why: "never another start job (no recursion)" },
      { action: "batch:TagResource", resource: newJobArn, context: tagContext({ ...tags, owner: "x" }), why: "only the tag keys the pipeline sends" },
      { action: "batch:TerminateJob", resource: batchArn(`job/${OTHER_JOB_ID}`), context: { [`aws:ResourceTag/${TAG_KEYS.stack}`]: "another-stack" }, why: "another stack's job" },
      { action: "batch:TerminateJob", resource: batchArn(`job/${OTHER_JOB_ID}`), context: {}, why: "another application's untagged job" },
      ...retagging(tags),
      { action: "batch:CancelJob", resource: batchArn(`job/${JOB_ID}`), context: ownJob, why: "no code cancels" },
    ],
  };
}

/** Process jobs: read what triggered them, write results, list just those prefixes, only over TLS. */
function processCalls(stack: MockedStack): RoleCalls {
  const role = roleByName(stack, "-process-role");
  const bucket = stack.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name.endsWith("-input"))!;
  const bucketPolicy = stack.resources.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!;
  const fn = stack.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-trigger-fn"))!;
  const output = fn.inputs.environment.variables.IGNORE_PREFIX as string;
  const input = notifiedPrefix(stack);
  const arn = bucket.state.arn as string;
  const tls = { "aws:SecureTransport": "true" };
  return {
    role: role.name,
    principal: principalOf(role),
    policies: inlinePolicies(stack, role),
    resourcePolicies: [{ arnPrefix: arn, policy: JSON.parse(bucketPolicy.inputs.policy) }],
    allowed: [
      { action: "s3:GetObject", resource: `${arn}/${input}data.csv`, context: tls, why: "a task reads its input" },
      { action: "s3:GetObjectVersion", resource: `${arn}/${input}data.csv`, context: { ...tls, "s3:versionid": "v1" }, why: "the exact version that triggered the run" },
      { action: "s3:PutObject", resource: `${arn}/${output}run/part-0`, context: tls, why: "a task writes its result" },
      { action: "s3:GetObject", resource: `${arn}/${output}run/part-0`, context: tls, why: "merge reads the parts" },
      { action: "s3:ListBucket", resource: arn, context: { ...tls, "s3:prefix": `${output}run/` }, why: "merge lists the parts" },
    ],
    denied: [
      { action: "s3:PutObject", resource: `${arn}/${input}loop.csv`, context: tls, why: "writing under the trigger prefix would start a run" },
      { action: "s3:GetObject", resource: `${arn}/${input}data.csv`, context: { "aws:SecureTransport": "false" }, why: "plain HTTP (bucket policy)" },
      { action: "s3:ListBucket", resource: arn, context: { ...tls, "s3:prefix": "" }, why: "listing the whole bucket" },
      { action: "s3:DeleteObject", resource: `${arn}/${output}run/part-0`, context: tls, why: "no code deletes" },
    ],
  };
}

/** Fargate execution roles: pull the definition's image, write the definition's own log group. */
function executionCalls(stack: MockedStack): RoleCalls[] {
  return stack.resources
    .filter((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-exec-role"))
    .map((role) => {
      const definitionName = role.name.replace(/-exec-role$/, "");
      const jd = stack.resources.find((r) => r.type === "aws:batch/jobDefinition:JobDefinition" && r.name === `${definitionName}-jd`)!;
      const props = JSON.parse(jd.inputs.containerProperties);
      const group = props.logConfiguration.options["awslogs-group"] as string;
      const stream = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${group}:log-stream:${props.logConfiguration.options["awslogs-stream-prefix"]}/default/0123456789abcdef`;
      const ecr = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com|api\.aws)(?:\.cn)?\/([^:@]+)/.exec(props.image as string);
      const pulls: AwsRequest[] = ecr
        ? [
            { action: "ecr:GetAuthorizationToken", resource: "*", why: "ECS agent logs in to ECR" },
            ...["BatchCheckLayerAvailability", "BatchGetImage", "GetDownloadUrlForLayer"].map((a) => ({
              action: `ecr:${a}`,
              resource: `arn:aws:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`,
              why: "ECS agent pulls the image",
            })),
          ]
        : [];
      return {
        role: role.name,
        principal: principalOf(role),
        policies: inlinePolicies(stack, role),
        allowed: [
          { action: "logs:CreateLogStream", resource: stream, why: "awslogs driver" },
          { action: "logs:PutLogEvents", resource: stream, why: "awslogs driver" },
          ...pulls,
        ],
        denied: [
          { action: "logs:PutLogEvents", resource: `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/batch/other:log-stream:x`, why: "another definition's logs" },
          { action: "ecr:BatchGetImage", resource: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/someone-elses`, why: "another repository" },
        ],
      };
    });
}

/**
 * The operator policy (infra/operator.ts), attached to a person running `batch-pipeline`: every call the
 * CLI's commands make, on the resources of this stack (cli/ sends exactly these; the coverage test reads
 * its SDK commands).
 */
function operatorCalls(stack: MockedStack): RoleCalls {
  const policy = stack.resources.find((r) => r.type === "aws:iam/policy:Policy" && r.name.endsWith("-operator-policy"))!;
  const bucket = stack.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name.endsWith("-input"))!;
  const bucketPolicy = stack.resources.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!;
  const fn = stack.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-trigger-fn"))!;
  const dlq = stack.resources.find((r) => r.type === "aws:sqs/queue:Queue" && r.name.endsWith("-trigger-dlq"))!;
  const input = notifiedPrefix(stack);
  const output = fn.inputs.environment.variables.IGNORE_PREFIX as string;
  const stackId = fn.inputs.environment.variables.PIPELINE_STACK as string;
  const groups = stack.resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup");
  const container = groups.find((g) => /\/aws\/batch\/.*-process$/.test(g.state.name as string))!;
  const jobStates = groups.find((g) => String(g.state.name).endsWith("/job-states"))!;
  const lambdaLogs = groups.find((g) => String(g.state.name).startsWith("/aws/lambda/"));
  const arn = bucket.state.arn as string;
  const tls = { "aws:SecureTransport": "true" };
  const own = { [`aws:ResourceTag/${TAG_KEYS.stack}`]: stackId };
  const stream = (group: RecordedResource) => `${group.state.arn}:log-stream:batch-pipeline/default/0123456789abcdef`;
  return {
    role: policy.name,
    principal: `arn:aws:iam::${ACCOUNT_ID}:user/operator`,
    policies: { [policy.name]: JSON.parse(policy.inputs.policy) },
    resourcePolicies: [{ arnPrefix: arn, policy: JSON.parse(bucketPolicy.inputs.policy) }],
    allowed: [
      { action: "batch:ListJobs", resource: "*", why: "cli/runModel/read.ts fetchRun, listChildren; runs" },
      { action: "batch:DescribeJobs", resource: "*", why: "cli/runModel/read.ts fetchRun, listChildren" },
      { action: "batch:TerminateJob", resource: batchArn(`job/${JOB_ID}`), context: own, why: "cancel: a job of the run" },
      { action: "batch:TerminateJob", resource: batchArn(`job/${JOB_ID}:7`), context: {}, why: "cancel: a running array child (not tagged)" },
      { action: "s3:PutObject", resource: `${arn}/${input}data.csv`, context: tls, why: "submit: PutObject, or CreateMultipartUpload/UploadPart/CompleteMultipartUpload (lib-storage)" },
      { action: "s3:AbortMultipartUpload", resource: `${arn}/${input}data.csv`, context: tls, why: "submit interrupted: no parts left behind" },
      { action: "logs:FilterLogEvents", resource: container.state.arn as string, why: "logs: a run's container logs" },
      { action: "logs:FilterLogEvents", resource: jobStates.state.arn as string, why: "the job-state log, for runs Batch no longer lists" },
      { action: "sqs:ReceiveMessage", resource: dlq.state.arn as string, why: "redrive" },
      { action: "sqs:DeleteMessage", resource: dlq.state.arn as string, why: "redrive: a replay succeeded" },
      { action: "sqs:ChangeMessageVisibility", resource: dlq.state.arn as string, why: "redrive: a failed replay goes back at once" },
      { action: "lambda:InvokeFunction", resource: fn.state.arn as string, why: "redrive: replay through the trigger" },
    ],
    denied: [
      { action: "batch:TerminateJob", resource: batchArn(`job/${OTHER_JOB_ID}`), context: { [`aws:ResourceTag/${TAG_KEYS.stack}`]: "another-stack" }, why: "another stack's job" },
      { action: "batch:SubmitJob", resource: batchArn("job-queue/anything"), why: "the CLI submits files, never jobs" },
      { action: "s3:PutObject", resource: `${arn}/${output}forged`, context: tls, why: "writing results is the jobs' business" },
      { action: "s3:PutObject", resource: `${arn}/${input}data.csv`, context: { "aws:SecureTransport": "false" }, why: "plain HTTP (bucket policy)" },
      { action: "s3:DeleteObject", resource: `${arn}/${input}data.csv`, context: tls, why: "no command deletes data" },
      ...(lambdaLogs ? [{ action: "logs:FilterLogEvents", resource: lambdaLogs.state.arn as string, why: "not a log group of the runs" }] : []),
      { action: "sqs:SendMessage", resource: dlq.state.arn as string, why: "nothing writes to the dead-letter queue" },
      { action: "logs:GetLogEvents", resource: stream(container), why: "logs reads with FilterLogEvents only" },
      { action: "lambda:UpdateFunctionCode", resource: fn.state.arn as string, why: "operators run the trigger, never change it" },
    ],
  };
}

/** The trigger prefix, as the bucket notification filters on it (to the function, or to the queue). */
function notifiedPrefix(stack: MockedStack): string {
  const notification = stack.resources.find((r) => r.type === "aws:s3/bucketNotification:BucketNotification")!;
  return (notification.inputs.lambdaFunctions ?? notification.inputs.queues)[0].filterPrefix as string;
}

function dedupe(requests: AwsRequest[]): AwsRequest[] {
  const seen = new Set<string>();
  return requests.filter((r) => {
    const key = JSON.stringify([r.action, r.resource, r.context]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What a principal that submits runs' DAGs sends besides SubmitJob (the start job, and an inline or auto trigger:
 * infra/iam.ts runJobsStatements grants both): batch/calls.ts's reads and terminations, for `who`.
 */
function runJobsCalls(ownJob: Record<string, string>, who: string): AwsRequest[] {
  return [
    { action: "batch:ListJobs", resource: "*", why: `${who}: batch/calls.ts listJobsNamed (the run's jobs, an earlier attempt's, array children)` },
    { action: "batch:DescribeJobs", resource: "*", why: `${who}: batch/calls.ts describeJobs (batch/attempts.ts: an earlier attempt's partial DAG)` },
    { action: "batch:TerminateJob", resource: batchArn(`job/${JOB_ID}`), context: ownJob, why: `${who}: batch/calls.ts terminateJobs (rollback, a partial DAG)` },
    // Batch does not tag array children (TagResource does not take child ARNs): a child has no tags.
    { action: "batch:TerminateJob", resource: batchArn(`job/${JOB_ID}:42`), context: {}, why: `${who}: a RUNNING array child of an earlier attempt (batch/attempts.ts)` },
  ];
}

/** Every role of the stack with the calls its code makes (and those it must not be able to make). */
export async function callTables(stack: MockedStack): Promise<RoleCalls[]> {
  return [await triggerCalls(stack), await orchestratorCalls(stack), processCalls(stack), ...executionCalls(stack), operatorCalls(stack), ...s3NotificationCalls(stack)];
}
