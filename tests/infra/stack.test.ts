/**
 * The whole program (index.ts) under Pulumi runtime mocks, with the default configuration plus a log
 * retention: the resource graph a `pulumi preview` of a fresh stack would show.
 */
import { stackOutputsSchema } from "../../cli/stack/outputs";
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePrefix } from "../../stack/naming";
import { DEFAULT_PROCESS_JOB } from "../../stack/config";
import type { StackOutputValues } from "../../contract";
import { ACCOUNT_ID, type MockedStack, ofType, oneOf, PROJECT, REGION, type RecordedResource, setupPulumiMocks, settle, STACK, valueOf } from "../mocks";
import { matchesPattern } from "../support/eventPattern";
import { asList, attachedPolicyArns, statementsOf } from "./iamAudit";
import { describeIamSimulation } from "./iamSimulation";
import { serializedLambdas } from "./serializedLambdas";

let stack: MockedStack;
/** Every logical name starts with the stack's resource prefix. */
const PREFIX = resourcePrefix(PROJECT, STACK);

// Every output of contract/outputs.ts is a named export of index.ts, and nothing else is (tsc fails here otherwise;
// `typeof import` reads the module's types without running it).
type ProgramExports = keyof typeof import("../../index");
const exportsExactlyTheOutputs: [Exclude<keyof StackOutputValues, ProgramExports>, Exclude<ProgramExports, keyof StackOutputValues>] extends [never, never] ? true : never = true;
void exportsExactlyTheOutputs;
let program: typeof import("../../index");
let code: () => Promise<string[]>;

const one = (type: string, nameIncludes: string): RecordedResource => oneOf(stack, type, nameIncludes);

beforeAll(async () => {
  code = serializedLambdas();
  stack = await setupPulumiMocks({ logRetentionDays: 14 });
  program = await import("../../index.js");
  await settle();
});

describe("compute environments", () => {
  it("creates exactly two managed environments: SPOT and EC2 on-demand", () => {
    const envs = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment");
    expect(envs.map((e) => e.inputs.computeResources.type).sort()).toEqual(["EC2", "SPOT"]);
    for (const env of envs) {
      expect(env.inputs.type).toBe("MANAGED");
      expect(env.inputs.state).toBe("ENABLED");
      // Never pinned: replacements are create-before-delete.
      expect(env.inputs.name).toBeUndefined();
      expect(env.inputs.namePrefix).toBeUndefined();
      // The service-linked role, not a hand-made one.
      expect(env.inputs.serviceRole).toBeUndefined();
      expect(env.inputs.computeResources.instanceTypes).toEqual(["optimal"]);
      expect(env.inputs.computeResources.subnets).toEqual(["subnet-0default000000a", "subnet-0default000000b", "subnet-0default000000c"]);
      expect(env.inputs.computeResources.ec2Configurations).toEqual([{ imageType: "ECS_AL2023" }, { imageType: "ECS_AL2023_NVIDIA" }]);
      expect(env.inputs.updatePolicy).toEqual({ terminateJobsOnUpdate: false, jobExecutionTimeoutMinutes: 30 });
    }
  });

  it("sizes Spot and On-Demand from config defaults", () => {
    const spot = one("aws:batch/computeEnvironment:ComputeEnvironment", "-spot-ce").inputs.computeResources;
    expect(spot).toMatchObject({ minVcpus: 0, maxVcpus: 64, bidPercentage: 100, allocationStrategy: "SPOT_PRICE_CAPACITY_OPTIMIZED" });
    expect(spot.spotIamFleetRole).toBeUndefined();
    const od = one("aws:batch/computeEnvironment:ComputeEnvironment", "-ondemand-ce").inputs.computeResources;
    expect(od).toMatchObject({ minVcpus: 0, maxVcpus: 16, allocationStrategy: "BEST_FIT_PROGRESSIVE" });
    expect(od.bidPercentage).toBeUndefined();
  });

  it("depends on its instance role's policy attachment, so deletion never hangs", () => {
    for (const env of ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment")) {
      const prefix = env.name.replace(/-ce$/, "");
      expect(env.dependsOn).toContain(`${prefix}-instance-ecs`);
    }
  });

  it("launches instances that require IMDSv2 and encrypt EBS", () => {
    for (const lt of ofType(stack, "aws:ec2/launchTemplate:LaunchTemplate")) {
      expect(lt.inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 });
      expect(lt.inputs.blockDeviceMappings[0].ebs).toMatchObject({ encrypted: "true", volumeType: "gp3" });
    }
    const envs = ofType(stack, "aws:batch/computeEnvironment:ComputeEnvironment");
    for (const env of envs) {
      const lt = one("aws:ec2/launchTemplate:LaunchTemplate", env.name.replace(/-ce$/, "-lt"));
      expect(env.inputs.computeResources.launchTemplate.launchTemplateId).toBe(lt.id);
    }
  });

  it("puts instances in security groups without ingress", () => {
    const groups = ofType(stack, "aws:ec2/securityGroup:SecurityGroup");
    expect(groups).toHaveLength(2);
    for (const sg of groups) {
      expect(sg.inputs.ingress ?? []).toEqual([]);
      expect(sg.inputs.vpcId).toBe("vpc-0default0000000a");
    }
  });
});

describe("job queues", () => {
  it("creates high and low queues with their priorities, both trying Spot before On-Demand", () => {
    const spot = one("aws:batch/computeEnvironment:ComputeEnvironment", "-spot-ce");
    const od = one("aws:batch/computeEnvironment:ComputeEnvironment", "-ondemand-ce");
    const queues = ofType(stack, "aws:batch/jobQueue:JobQueue");
    expect(queues.map((q) => [q.name.replace(/^.*-(\w+)-queue$/, "$1"), q.inputs.priority]).sort()).toEqual([
      ["high", 100],
      ["low", 10],
    ]);
    for (const q of queues) {
      expect(q.inputs.state).toBe("ENABLED");
      expect(q.inputs.computeEnvironmentOrders).toEqual([
        { computeEnvironment: spot.state.arn, order: 0 },
        { computeEnvironment: od.state.arn, order: 1 },
      ]);
    }
  });

  it("cancels jobs stuck RUNNABLE for an hour for each reason that never clears by itself", () => {
    for (const q of ofType(stack, "aws:batch/jobQueue:JobQueue")) {
      expect(q.inputs.jobStateTimeLimitActions).toEqual(
        ["CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY", "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"].map(
          (reason) => ({ action: "CANCEL", maxTimeSeconds: 3600, reason, state: "RUNNABLE" }),
        ),
      );
      expect(q.inputs.schedulingPolicyArn).toBeUndefined();
    }
  });
});

describe("job definitions and logs", () => {
  it("registers the default process job: busybox saying which task it is, with retries and a timeout", () => {
    const jd = one("aws:batch/jobDefinition:JobDefinition", "-process-jd");
    const logs = one("aws:cloudwatch/logGroup:LogGroup", "-process-logs");
    expect(jd.inputs).toMatchObject({
      type: "container",
      platformCapabilities: ["EC2"],
      propagateTags: true,
      deregisterOnNewRevision: false,
      timeout: { attemptDurationSeconds: 3600 },
      retryStrategy: {
        attempts: 3,
        evaluateOnExits: [
          { action: "RETRY", onStatusReason: "Host EC2*" },
          { action: "RETRY", onStatusReason: "Your Spot Task was interrupted*" },
          { action: "EXIT", onReason: "*" },
        ],
      },
    });
    const props = JSON.parse(jd.inputs.containerProperties);
    expect(props.image).toBe("public.ecr.aws/docker/library/busybox:1.37");
    expect(props.command).toEqual(DEFAULT_PROCESS_JOB.command);
    expect(props.resourceRequirements).toEqual([
      { type: "VCPU", value: "1" },
      { type: "MEMORY", value: "2048" },
    ]);
    expect(props.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: { "awslogs-group": logs.state.name, "awslogs-region": "eu-west-1", "awslogs-stream-prefix": expect.stringMatching(/-process$/) },
    });
  });

  it("registers the planner's barrier job, tiny, retried only on Spot reclamation, without AWS credentials", () => {
    const jd = one("aws:batch/jobDefinition:JobDefinition", "-barrier-jd");
    expect(jd.inputs.platformCapabilities).toEqual(["EC2"]);
    expect(jd.inputs.retryStrategy.attempts).toBe(2);
    expect(jd.inputs.retryStrategy.evaluateOnExits.at(-1)).toEqual({ action: "EXIT", onReason: "*" });
    const props = JSON.parse(jd.inputs.containerProperties);
    expect(props.command).toEqual(["true"]);
    expect(props.resourceRequirements).toEqual([
      { type: "VCPU", value: "1" },
      { type: "MEMORY", value: "128" },
    ]);
    expect(props.jobRoleArn).toBeUndefined();
  });

  it("runs process jobs as a role that reads the trigger prefix and writes only the output prefix", () => {
    const props = JSON.parse(one("aws:batch/jobDefinition:JobDefinition", "-process-jd").inputs.containerProperties);
    const role = one("aws:iam/role:Role", "-process-role");
    expect(props.jobRoleArn).toBe(role.state.arn);
    const bucket = one("aws:s3/bucket:Bucket", "-input").state;
    expect(props.environment).toEqual(expect.arrayContaining([{ name: "PIPELINE_OUTPUT_BUCKET", value: bucket.bucket }]));
    // Each run's prefix comes from the planner (`<outputPrefix><runId>/`); the start job is told the root.
    expect(props.environment.map((e: { name: string }) => e.name)).not.toContain("PIPELINE_OUTPUT_PREFIX");
    const start = JSON.parse(one("aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd").inputs.containerProperties);
    expect(start.environment).toEqual(expect.arrayContaining([{ name: "PIPELINE_OUTPUT_ROOT", value: "results/" }]));
    const statements = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", "-process-policy").inputs.policy).Statement;
    expect(statements).toEqual([
      { Sid: "ReadInputs", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: [`${bucket.arn}/incoming/*`, `${bucket.arn}/results/*`] },
      { Sid: "WriteResults", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: [`${bucket.arn}/results/*`] },
      { Sid: "ListOwnPrefixes", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucket.arn], Condition: { StringLike: { "s3:prefix": ["incoming/*", "results/*"] } } },
    ]);
  });

  it("lets no role write under the trigger prefix: the pipeline cannot trigger itself", () => {
    // The operator policy is for people (`batch-pipeline submit` uploads under the prefix on purpose); no role of the stack has it.
    const operator = ofType(stack, "aws:iam/policy:Policy").filter((p) => p.name.endsWith("-operator-policy"));
    expect(operator).toHaveLength(1);
    expect(ofType(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs.policyArn)).not.toContain(operator[0]!.state.arn);
    for (const { policy, statement } of statementsOf(stack).filter((s) => s.policy !== operator[0]!.name)) {
      if (!asList(statement.Action).some((a) => a.startsWith("s3:Put"))) continue;
      for (const resource of asList(statement.Resource)) {
        expect(resource, policy).not.toMatch(/\/incoming\//);
        expect(resource, `${policy}: whole bucket`).not.toMatch(/^arn:aws:s3:::[^/]+\/\*$/);
      }
    }
  });

  it("names the stack's log groups in the operator policy by prefix, so adding a job definition leaves the policy people hold unchanged", () => {
    const operator = ofType(stack, "aws:iam/policy:Policy").find((p) => p.name.endsWith("-operator-policy"))!;
    const searchLogs = (JSON.parse(operator.inputs.policy).Statement as { Sid: string; Resource: string[] }[]).find((st) => st.Sid === "SearchLogs")!;
    const patterns = ["batch", "events"].map((source) => `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/${source}/${PREFIX}-*`);
    expect(searchLogs.Resource).toEqual(patterns);
    // Every container and job-state log group falls under them; the trigger's own does not (tests/infra/iamCalls.ts simulates both).
    const under = (name: string) => patterns.some((p) => `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${name}`.startsWith(p.slice(0, -1)));
    const groups = ofType(stack, "aws:cloudwatch/logGroup:LogGroup").map((g) => String(g.inputs.name));
    expect(groups.filter((g) => !g.startsWith("/aws/lambda/")).every(under)).toBe(true);
    expect(groups.filter((g) => g.startsWith("/aws/lambda/")).some(under)).toBe(false);
  });

  it("keeps every log group for the configured retention", () => {
    const groups = ofType(stack, "aws:cloudwatch/logGroup:LogGroup");
    expect(groups.length).toBeGreaterThanOrEqual(2);
    for (const g of groups) {
      expect(g.inputs.retentionInDays).toBe(14);
      expect(g.inputs.name).toMatch(new RegExp(`^/aws/(batch|events|lambda)/${PREFIX}-`));
    }
  });
});

describe("IAM", () => {
  it("grants no wildcard action in any statement", () => {
    const statements = statementsOf(stack);
    // The trigger's and the start job's policies at least.
    expect(statements.length).toBeGreaterThanOrEqual(9);
    for (const { policy, statement } of statements) {
      for (const action of asList(statement.Action)) {
        expect(action, `${policy} ${statement.Sid}`).not.toMatch(/^\*$|:\*$/);
      }
      expect(statement).not.toHaveProperty("NotAction");
    }
  });

  it("attaches no *FullAccess managed policy", () => {
    const arns = attachedPolicyArns(stack);
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) expect(arn).not.toMatch(/FullAccess/);
    expect(arns).toEqual(
      expect.arrayContaining(["arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"]),
    );
  });

  it("lets ECS tasks assume the job roles only for this account's ECS resources, and Lambda the trigger role only for this account (confused deputy)", () => {
    const roles = ofType(stack, "aws:iam/role:Role");
    const trustOf = (r: RecordedResource) => JSON.parse(r.inputs.assumeRolePolicy).Statement as { Principal: { Service: string }; Condition?: unknown }[];
    const byService = (service: string) => roles.filter((r) => trustOf(r)[0]!.Principal.Service === service);
    expect(byService("ecs-tasks.amazonaws.com").length).toBeGreaterThanOrEqual(2);
    for (const role of byService("ecs-tasks.amazonaws.com")) {
      expect(trustOf(role), role.name).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "ecs-tasks.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID }, ArnLike: { "aws:SourceArn": `arn:aws:ecs:${REGION}:${ACCOUNT_ID}:*` } },
        },
      ]);
    }
    expect(byService("lambda.amazonaws.com").map((r) => trustOf(r))).toEqual([
      [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } } }],
    ]);
  });

  it("lets only EC2 assume the instance roles", () => {
    for (const role of ofType(stack, "aws:iam/role:Role", "instance-role")) {
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
  });
});

describe("orchestrator (start job)", () => {
  it("stores its image in an ECR repository with immutable tags, scan on push and a lifecycle", () => {
    const repo = one("aws:ecr/repository:Repository", "-orchestrator-repo");
    expect(repo.inputs).toMatchObject({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    const lifecycle = JSON.parse(one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "-orchestrator-repo-lifecycle").inputs.policy);
    expect(lifecycle.rules.map((r: any) => r.selection.tagStatus)).toEqual(["untagged", "any"]);
  });

  it("builds jobs/Dockerfile for linux/amd64, tagged by a hash of its sources", () => {
    const image = one("awsx:ecr:Image", "-orchestrator-image");
    expect(image.inputs.platform).toBe("linux/amd64");
    expect(image.inputs.dockerfile).toMatch(/jobs\/Dockerfile$/);
    expect(image.inputs.imageTag).toMatch(/^[0-9a-f]{16}$/);
    expect(image.inputs.repositoryUrl).toBe(one("aws:ecr/repository:Repository", "-orchestrator-repo").state.repositoryUrl);
  });

  it("defines the start job with the built image, the workflow, the process queue and the definitions it may use", () => {
    const jd = one("aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd");
    const props = JSON.parse(jd.inputs.containerProperties);
    expect(props.image).toBe(one("awsx:ecr:Image", "-orchestrator-image").state.imageUri);
    expect(props.jobRoleArn).toBe(one("aws:iam/role:Role", "-orchestrator-job-role").state.arn);
    const env = Object.fromEntries(props.environment.map((e: any) => [e.name, e.value]));
    expect(JSON.parse(env.PIPELINE_WORKFLOW).steps.map((s: any) => [s.name, s.width])).toEqual([
      ["prepare", { fixed: 1 }],
      ["process", { fixed: 3 }],
      ["merge", { fixed: 1 }],
    ]);
    expect(JSON.parse(env.PIPELINE_JOB_TAGS)).toEqual({});
    // The tag value IAM scopes TerminateJob by: the stack's own resource prefix.
    expect(env.PIPELINE_STACK).toBe(PREFIX);
    // Batch on EC2 does not reliably set it, and the SDK needs it.
    expect(env.AWS_REGION).toBe("eu-west-1");
    expect(env.PIPELINE_PROCESS_QUEUE).toBe(one("aws:batch/jobQueue:JobQueue", "-low-queue").state.arn);
    expect(JSON.parse(env.PIPELINE_JOB_DEFINITIONS)).toEqual({
      process: one("aws:batch/jobDefinition:JobDefinition", "-process-jd").state.name,
      barrier: one("aws:batch/jobDefinition:JobDefinition", "-barrier-jd").state.name,
    });
    expect(jd.inputs.retryStrategy.evaluateOnExits).toEqual([
      { action: "RETRY", onStatusReason: "Host EC2*" },
      { action: "RETRY", onStatusReason: "Your Spot Task was interrupted*" },
      { action: "RETRY", onExitCode: "3" },
      { action: "RETRY", onExitCode: "143" },
      { action: "EXIT", onReason: "*" },
    ]);
    expect(jd.dependsOn).toContain(`${PREFIX}-orchestrator-job-policy`);
  });
});

describe("input bucket", () => {
  it("is versioned, encrypted, private, owner-enforced and TLS-only, and its policy is written once", () => {
    const bucket = one("aws:s3/bucket:Bucket", "-input").state.bucket;
    expect(one("aws:s3/bucketVersioning:BucketVersioning", "-input-versioning").inputs).toMatchObject({ bucket, versioningConfiguration: { status: "Enabled" } });
    expect(one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-input-encryption").inputs.rules[0]).toMatchObject({
      applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" },
    });
    expect(one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-input-public-access").inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "-input-ownership").inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    const policy = JSON.parse(one("aws:s3/bucketPolicy:BucketPolicy", "-input-tls-only").inputs.policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Principal: "*", Action: ["s3:*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      // tests/deploy/roles.test.ts simulates it against the deploy role.
      { Sid: "DenyPolicyRewrites", Effect: "Deny", Principal: "*", Action: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], Resource: [`arn:aws:s3:::${bucket}`] },
    ]);
  });

  it("aborts stale uploads and expires old versions after 30 days", () => {
    const rules = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-input-lifecycle").inputs.rules;
    expect(rules.map((r: any) => r.id)).toEqual(["abort-incomplete-uploads", "expire-old-versions"]);
    expect(rules[1].noncurrentVersionExpiration).toEqual({ noncurrentDays: 30 });
  });
});

describe("S3 trigger", () => {
  const fn = () => one("aws:lambda/function:Function", "-trigger-fn");

  it("runs the inline callback on nodejs22.x with its own scoped role, JSON logs to its own log group", () => {
    const f = fn().inputs;
    expect(f.runtime).toBe("nodejs22.x");
    expect(f.handler).toBe("__index.handler");
    expect(f.role).toBe(one("aws:iam/role:Role", "-trigger-role").state.arn);
    expect(f.reservedConcurrentExecutions).toBe(10);
    expect(f.loggingConfig).toMatchObject({ logFormat: "JSON", logGroup: one("aws:cloudwatch/logGroup:LogGroup", "-trigger-logs").state.name });
    // Powertools comes from AWS's layer of the exact pinned version.
    expect(f.layers).toEqual(["arn:aws:lambda:eu-west-1:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:44"]);
    const pinned = require("../../package.json").dependencies["@aws-lambda-powertools/idempotency"];
    expect(stack.calls).toContainEqual({
      token: "aws:ssm/getParameter:getParameter",
      inputs: expect.objectContaining({ name: `/aws/service/powertools/typescript/generic/all/${pinned}` }),
    });
  });

  it("tells the handler the start queue, start job definition, idempotency table, ignored prefix and the bucket and key filter it checks again", async () => {
    const { TRIGGER_ENV } = await import("../../contract/index.js");
    const vars = fn().inputs.environment.variables;
    expect(vars[TRIGGER_ENV.startQueue]).toBe(one("aws:batch/jobQueue:JobQueue", "-high-queue").state.arn);
    expect(vars[TRIGGER_ENV.startJobDefinition]).toBe(one("aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd").state.name);
    expect(vars[TRIGGER_ENV.idempotencyTable]).toBe(one("aws:dynamodb/table:Table", "-trigger-idempotency").state.name);
    expect(vars[TRIGGER_ENV.idempotencySeconds]).toBe(String(7 * 24 * 3600));
    expect(vars[TRIGGER_ENV.ignorePrefix]).toBe("results/");
    expect(vars[TRIGGER_ENV.bucket]).toBe(one("aws:s3/bucket:Bucket", "-input").state.bucket);
    expect([vars[TRIGGER_ENV.keyPrefix], vars[TRIGGER_ENV.keySuffix]]).toEqual(["incoming/", ""]);
    expect(JSON.parse(vars[TRIGGER_ENV.jobTags])).toEqual({});
    expect(vars.PIPELINE_STACK).toBe(PREFIX);
  });

  it("creates no role or policy attachment of its own (CallbackFunction's default would attach nine broad policies)", () => {
    expect(ofType(stack, "aws:iam/role:Role", "-trigger-fn")).toEqual([]);
    expect(ofType(stack, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-trigger")).toEqual([]);
  });

  it("remembers submissions in a DynamoDB table keyed on id, expiring on `expiration`", () => {
    expect(one("aws:dynamodb/table:Table", "-trigger-idempotency").inputs).toMatchObject({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      ttl: { attributeName: "expiration", enabled: true },
      serverSideEncryption: { enabled: true },
    });
  });

  it("sends events that fail after two retries to the dead-letter queue", () => {
    const config = one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "-trigger-async").inputs;
    expect(config).toMatchObject({
      functionName: fn().state.name,
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destination: one("aws:sqs/queue:Queue", "-trigger-dlq").state.arn } },
    });
    expect(one("aws:sqs/queue:Queue", "-trigger-dlq").inputs).toMatchObject({ messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true });
  });

  it("is invoked by S3 for created objects under the prefix, wired only after the permission exists", () => {
    const permission = one("aws:lambda/permission:Permission", "-trigger-s3-invoke");
    expect(permission.inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      sourceArn: one("aws:s3/bucket:Bucket", "-input").state.arn,
      sourceAccount: "123456789012",
    });
    const notification = one("aws:s3/bucketNotification:BucketNotification", "-trigger-notification");
    expect(notification.inputs.lambdaFunctions).toEqual([
      { lambdaFunctionArn: fn().state.arn, events: ["s3:ObjectCreated:*"], filterPrefix: "incoming/" },
    ]);
    expect(notification.dependsOn).toContain(permission.name);
  });

  it("is invoked asynchronously by default (trigger.delivery: async): no queue in front of it, no queue policy, no event source mapping", () => {
    expect(ofType(stack, "aws:sqs/queue:Queue").map((q) => q.name)).toEqual([`${PREFIX}-trigger-dlq`]);
    expect(ofType(stack, "aws:sqs/queuePolicy:QueuePolicy")).toEqual([]);
    expect(ofType(stack, "aws:lambda/eventSourceMapping:EventSourceMapping")).toEqual([]);
    expect(ofType(stack, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.name)).toEqual([`${PREFIX}-obs-dlq-not-empty`]);
    expect(one("aws:s3/bucketNotification:BucketNotification", "-trigger-notification").inputs.queues).toBeUndefined();
  });

  it("alarms to the failure topic when the dead-letter queue holds a message", () => {
    const alarm = one("aws:cloudwatch/metricAlarm:MetricAlarm", "-obs-dlq-not-empty").inputs;
    expect(alarm).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: one("aws:sqs/queue:Queue", "-trigger-dlq").state.name },
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      alarmActions: [one("aws:sns/topic:Topic", "-obs-failures").state.arn],
    });
  });
});

// orchestrator.mode: container (the default). The inline and auto modes (tests/infra/stack-inline.test.ts,
// stack-auto.test.ts) change the trigger; a container stack's is what it was before they existed (its function's
// inputs, role and policy compared equal, JSON for JSON, with the program of 1230a6f): pinned here.
describe("S3 trigger, orchestrator.mode: container", () => {
  const fn = () => one("aws:lambda/function:Function", "-trigger-fn");

  it("is told the start job's target only: no mode, process queue, job definitions or output root", () => {
    expect(Object.keys(fn().inputs.environment.variables).sort()).toEqual(
      ["IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS", "IGNORE_PREFIX", "PIPELINE_STACK", "START_JOB_DEFINITION", "START_JOB_TAGS", "START_QUEUE", "TRIGGER_BUCKET", "TRIGGER_PREFIX", "TRIGGER_SUFFIX"],
    );
  });

  it("may submit start jobs only: SubmitJob/TagResource on the start queue and definition, no reads of jobs, no terminations", () => {
    const statements = statementsOf(stack)
      .filter((s) => s.policy.endsWith("-trigger-policy"))
      .map((s) => s.statement);
    const queue = one("aws:batch/jobQueue:JobQueue", "-high-queue").state.arn;
    const start = one("aws:batch/jobDefinition:JobDefinition", "-orchestrator-start-jd").state.arnPrefix;
    const job = `arn:aws:batch:${REGION}:${ACCOUNT_ID}:job/*`;
    expect(statements.map((s) => s.Sid)).toEqual(["SubmitToQueue", "TagOnSubmit", "NoRetaggingOtherStacksJobs", "Idempotency", "DeadLetter", "OwnLogs"]);
    expect(statements[0]).toEqual({ Sid: "SubmitToQueue", Effect: "Allow", Action: ["batch:SubmitJob"], Resource: [queue, start, `${start}:*`, job] });
    expect(statements[1]!.Resource).toEqual([`${start}:*`, queue, job]);
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => /^batch:(ListJobs|DescribeJobs|TerminateJob)$/.test(a))).toEqual([]);
  });

  it("runs the container factory: neither the planner nor the submitter is serialized into the Lambda", async () => {
    const [text, ...others] = await code();
    expect(others).toEqual([]);
    expect(text).toContain("buildTriggerHandler");
    // Pulumi's closure serializer writes each function it serializes as `function /*name*/(`; the wiring only
    // names `orchestration.createInlineStarter`, a parameter's property, which the container factory never passes.
    expect(text).toContain("/*buildTriggerHandlerFromEnv*/");
    for (const name of ["createInlineStarter", "planWorkflow", "submitPlan", "submitJob", "terminateJobs"]) expect(text, name).not.toContain(`/*${name}*/`);
    expect(text).not.toContain("__workflow");
  });
});

describe("observability", () => {
  it("records every job state change of the pipeline's queues in a log group", () => {
    const rule = one("aws:cloudwatch/eventRule:EventRule", "-obs-job-states");
    const queues = ofType(stack, "aws:batch/jobQueue:JobQueue").map((q) => q.state.arn);
    expect(JSON.parse(rule.inputs.eventPattern)).toEqual({
      source: ["aws.batch"],
      "detail-type": ["Batch Job State Change"],
      detail: { jobQueue: queues, status: ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"] },
    });
    const log = one("aws:cloudwatch/logGroup:LogGroup", "-obs-job-states");
    expect(log.inputs.name).toBe(`/aws/events/${PREFIX}-obs/job-states`);
    const target = one("aws:cloudwatch/eventTarget:EventTarget", "-obs-job-states-log");
    expect(target.inputs.arn).toBe(log.state.arn);
    expect(target.dependsOn).toContain(`${PREFIX}-obs-events-to-logs`);
    // The log group's resource policy admits this account's job-state rule (or Logs' own delivery), no other.
    const logPolicy = JSON.parse(one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "-obs-events-to-logs").inputs.policyDocument);
    expect(logPolicy.Statement[0].Condition).toEqual({
      StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
      ArnLike: { "aws:SourceArn": [rule.state.arn, `arn:aws:logs:${REGION}:${ACCOUNT_ID}:*`] },
    });
  });

  it("publishes failed jobs to an SNS topic only that rule (and the account's alarms) may publish to", () => {
    const rule = one("aws:cloudwatch/eventRule:EventRule", "-obs-job-failed");
    const detail = JSON.parse(rule.inputs.eventPattern).detail;
    expect(detail.status).toEqual(["FAILED"]);
    // one alert per failed array job, not one per failed child
    const pattern = JSON.parse(rule.inputs.eventPattern);
    const queue = detail.jobQueue[0];
    const event = (jobDetail: Record<string, unknown>) => ({
      source: "aws.batch",
      "detail-type": "Batch Job State Change",
      detail: { jobName: "r-process", jobId: "j-1", jobQueue: queue, status: "FAILED", statusReason: "Essential container in task exited", ...jobDetail },
    });
    expect(matchesPattern(pattern, event({}))).toBe(true); // a plain job
    expect(matchesPattern(pattern, event({ arrayProperties: { size: 3, statusSummary: { FAILED: 1, SUCCEEDED: 2 } } }))).toBe(true); // the parent
    expect(matchesPattern(pattern, event({ arrayProperties: { index: 2 } }))).toBe(false); // a child
    expect(matchesPattern(pattern, event({ status: "SUCCEEDED" }))).toBe(false);
    expect(matchesPattern(pattern, event({ jobQueue: "arn:aws:batch:eu-west-1:123456789012:job-queue/someone-elses" }))).toBe(false);
    const topic = one("aws:sns/topicPolicy:TopicPolicy", "-obs-failures-policy");
    const statement = JSON.parse(topic.inputs.policy).Statement[0];
    expect(statement.Action).toEqual(["sns:Publish"]);
    expect(statement.Condition).toEqual({ ArnEquals: { "aws:SourceArn": rule.state.arn } });
    // EventBridge and CloudWatch cannot publish to a topic encrypted with the AWS-managed key.
    expect(one("aws:sns/topic:Topic", "-obs-failures").inputs.kmsMasterKeyId).toBeUndefined();
  });
});

describe("stack outputs", () => {
  it("exports queue ARNs, job definition names, log group names and environment ARNs", async () => {
    const queueArns = await valueOf(program.queueArns);
    expect(Object.keys(queueArns).sort()).toEqual(["high", "low"]);
    expect(queueArns.high).toMatch(/^arn:aws:batch:eu-west-1:123456789012:job-queue\//);
    expect(await valueOf(program.startJobDefinitionName)).toMatch(/-orchestrator-start-jd-/);
    expect(await valueOf(program.orchestratorImage)).toMatch(/dkr\.ecr\..*@sha256:/);
    expect(await valueOf(program.jobStateLogGroup)).toBe(`/aws/events/${PREFIX}-obs/job-states`);
    expect(await valueOf(program.inputBucketName)).toMatch(new RegExp(`^${PREFIX}-input-`));
    expect(await valueOf(program.deadLetterQueueUrl)).toMatch(/^https:\/\/sqs\./);
    expect(await valueOf(program.triggerFunctionName)).toMatch(/-trigger-fn-/);
    const names = await valueOf(program.jobDefinitionNames);
    expect(Object.keys(names).sort()).toEqual(["barrier", "process"]);
    const logs = await valueOf(program.logGroupNames);
    expect(logs.process).toBe(`/aws/batch/${PREFIX}-process`);
    const envs = await valueOf(pulumiAll(program.computeEnvironmentArns));
    expect(envs.spot).toMatch(/compute-environment\//);
    expect(await valueOf(program.startQueueArn)).toBe(queueArns.high);
    expect(await valueOf(program.processQueueArn)).toBe(queueArns.low);
    expect([program.triggerPrefix, program.triggerSuffix, program.outputPrefix]).toEqual(["incoming/", "", "results/"]);
  });

  it("exports every output batch-pipeline reads (cli/stack/outputs.ts stackOutputsSchema), as `pulumi stack output --json` would print them", async () => {
    const printed: Record<string, unknown> = {};
    for (const key of Object.keys(stackOutputsSchema.shape)) printed[key] = await valueOf(pulumiAll({ value: (program as Record<string, unknown>)[key] })).then((o) => o.value);
    expect(stackOutputsSchema.safeParse(JSON.parse(JSON.stringify(printed))).error?.issues ?? []).toEqual([]);
  });
});

function pulumiAll<T extends Record<string, unknown>>(o: T) {
  return require("@pulumi/pulumi").all(o);
}

describeIamSimulation("default", () => stack);
