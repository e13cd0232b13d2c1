/**
 * The GitHub Actions roles (deploy/), checked by the same IAM tooling as the stack's own roles: AWS's
 * authorization data knows every action, resource type and condition key they name; the committed JSON
 * is what deploy/render.ts writes; each fits IAM's size limit; and, simulated with AWS's evaluation
 * logic, the deploy role may create every resource the production example stack declares (on the ARN
 * the mocks give it) while it may not touch other stacks' or teams' resources, pass roles elsewhere,
 * or read the pipeline's data. Which further calls the AWS provider makes per resource (reads, tags,
 * waits) is not provable offline: the README says so.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePrefix } from "../../infra/naming";
import { POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME, powertoolsLayerParameter } from "../../infra/lambdaPackages";
import { deployRolePolicies, MANAGED_POLICY_MAX_CHARS, type PolicyDocument, policyChars, previewRolePolicy, SPOT_FLEET_ROLE } from "../../deploy/policies";
import { EXAMPLE, renderAll } from "../../deploy/render";
import { noWildcardAllow } from "../../policy/iam";
import { ACCOUNT_ID, type MockedStack, PROJECT, REGION, setupPulumiMocks, settle } from "../mocks";
import { type AwsRequest, simulate, unknownToAws, type PolicyStatementJson } from "../support/iam";
import { stackFileConfig } from "../policy/support";
import { assertNone, roleDocumentProblems } from "./stackChecks";

const DEPLOY_DIR = join(__dirname, "..", "..", "deploy");
const params = { ...EXAMPLE, accountId: ACCOUNT_ID };
const deploy = deployRolePolicies(params);
const preview = previewRolePolicy(params);
const PRINCIPAL = `arn:aws:iam::${ACCOUNT_ID}:role/github-actions`;
let stack: MockedStack;

beforeAll(async () => {
  // The production example, deployed as stack `prod`: a new VPC, Fargate, every resource type.
  stack = await setupPulumiMocks(stackFileConfig("Pulumi.prod.yaml"), { stack: "prod" });
  await import("../../index.js");
  await settle();
});

const statements = (doc: PolicyDocument) => doc.Statement as unknown as PolicyStatementJson[];
/**
 * KMS authorizes an identity policy only when the key policy lets IAM policies grant access: the
 * default key policy does, with this statement ("Default key policy", AWS KMS developer guide).
 */
const DEFAULT_KEY_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow" as const, Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" }],
};
const outcome = async (policies: Record<string, PolicyDocument>, request: AwsRequest) => {
  const keyPolicy = request.action.startsWith("kms:") ? DEFAULT_KEY_POLICY : undefined;
  const result = await simulate(PRINCIPAL, ACCOUNT_ID, policies as never, request, keyPolicy);
  return `${request.action} on ${request.resource}: ${result.result}${result.errors ? ` ${result.errors}` : ""}${result.ignoredContextKeys.length ? ` ignoring ${result.ignoredContextKeys.join(", ")}` : ""}`;
};
const allowedAll = async (policies: Record<string, PolicyDocument>, requests: AwsRequest[]) => {
  const outcomes = await Promise.all(requests.map((r) => outcome(policies, r)));
  expect(outcomes.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
};
const deniedAll = async (policies: Record<string, PolicyDocument>, requests: AwsRequest[]) => {
  const outcomes = await Promise.all(requests.map((r) => outcome(policies, r)));
  expect(outcomes.filter((o) => !/: (ImplicitlyDenied|ExplicitlyDenied)$/.test(o))).toEqual([]);
};

describe("the committed role documents", () => {
  it("are what deploy/render.ts writes for the example values (so they never drift from the generator)", () => {
    // A stack file the documents do not cover, or a document too many or too few, is named with what to run.
    assertNone(roleDocumentProblems(join(DEPLOY_DIR, "..")));
    const stale = `is not what \`npx tsx deploy/render.ts\` writes for the stacks ${EXAMPLE.stacks.join(", ")}: run it`;
    for (const [file, text] of Object.entries(renderAll(EXAMPLE))) expect(readFileSync(join(DEPLOY_DIR, file), "utf8"), `deploy/${file} ${stale}`).toBe(text);
  });

  it("name only actions, resource types and condition keys AWS defines", async () => {
    const problems = await Promise.all([...Object.values(deploy), preview].map((doc) => unknownToAws(statements(doc))));
    expect(problems.flat()).toEqual([]);
  });

  it("allow exact actions only, as the policy pack requires of the stack's own roles", () => {
    for (const doc of [...Object.values(deploy), preview]) {
      const reports: string[] = [];
      const args = { type: "aws:iam/policy:Policy", name: "github-actions", props: { policy: JSON.stringify(doc) }, notApplicable: () => { throw new Error("not applicable"); } };
      (noWildcardAllow.validateResource as (a: unknown, r: (m: string) => void) => void)(args, (m) => reports.push(m));
      expect(reports).toEqual([]);
    }
  });

  it("each fit in one managed policy (6,144 characters without whitespace)", () => {
    for (const [part, doc] of Object.entries({ ...deploy, preview })) expect(JSON.stringify(doc).length, part).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
  });

  it("given more stacks, split a theme that no longer fits into one managed policy per stack, each within the limit, granting the same statements", () => {
    const many = { ...params, stacks: ["dev", "prod", "staging", "qa", "perf"] };
    const docs = deployRolePolicies(many);
    expect(Object.keys(docs)).toEqual(expect.arrayContaining(["services-dev", "services-prod", "services-staging", "services-qa", "services-perf"]));
    for (const [part, doc] of Object.entries(docs)) expect(policyChars(doc), part).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
    // The split loses nothing: every resource of every statement of the whole set is in some part.
    const granted = (d: Record<string, PolicyDocument>) => new Set(Object.values(d).flatMap((doc) => doc.Statement.flatMap((st) => [st.Action].flat().flatMap((a) => [st.Resource].flat().map((r) => `${st.Sid} ${a} ${r}`)))));
    const whole = { all: { Version: "2012-10-17", Statement: Object.values(docs).flatMap((d) => d.Statement) } } as Record<string, PolicyDocument>;
    const single = Object.fromEntries(many.stacks.map((stack) => [stack, { Version: "2012-10-17", Statement: Object.values(deployRolePolicies({ ...params, stacks: [stack] })).flatMap((d) => d.Statement) }])) as Record<string, PolicyDocument>;
    expect([...granted(single)].filter((g) => !granted(whole).has(g))).toEqual([]);
    expect(Object.keys(docs).length).toBeLessThanOrEqual(10);
  });
});

type Recorded = MockedStack["resources"][number];
const arnOf = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const bucketCall = (action: string) => (r: Recorded): AwsRequest => ({ action, resource: `arn:aws:s3:::${r.inputs.bucket}`, why: r.type });

/** The call that creates each resource type of the stack, on the ARN AWS authorizes it against. */
const CREATE: Record<string, (r: Recorded) => AwsRequest> = {
  "aws:iam/role:Role": (r) => ({ action: "iam:CreateRole", resource: r.state.arn, why: r.type }),
  "aws:iam/rolePolicy:RolePolicy": (r) => ({ action: "iam:PutRolePolicy", resource: role(r.inputs.role), why: r.type }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (r) => ({ action: "iam:AttachRolePolicy", resource: role(r.inputs.role), context: { "iam:PolicyARN": r.inputs.policyArn }, why: r.type }),
  "aws:iam/instanceProfile:InstanceProfile": (r) => ({ action: "iam:CreateInstanceProfile", resource: r.state.arn, why: r.type }),
  "aws:iam/policy:Policy": (r) => ({ action: "iam:CreatePolicy", resource: `arn:aws:iam::${ACCOUNT_ID}:policy/${r.name}-1a2b3c4`, why: r.type }),
  "aws:s3/bucket:Bucket": (r) => ({ action: "s3:CreateBucket", resource: r.state.arn, why: r.type }),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": bucketCall("s3:PutBucketPublicAccessBlock"),
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": bucketCall("s3:PutBucketOwnershipControls"),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": bucketCall("s3:PutEncryptionConfiguration"),
  "aws:s3/bucketVersioning:BucketVersioning": bucketCall("s3:PutBucketVersioning"),
  "aws:s3/bucketPolicy:BucketPolicy": bucketCall("s3:PutBucketPolicy"),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": bucketCall("s3:PutLifecycleConfiguration"),
  "aws:s3/bucketNotification:BucketNotification": bucketCall("s3:PutBucketNotification"),
  "aws:ec2/securityGroup:SecurityGroup": (r) => ({ action: "ec2:CreateSecurityGroup", resource: r.state.arn, why: r.type }),
  "aws:ec2/launchTemplate:LaunchTemplate": (r) => ({ action: "ec2:CreateLaunchTemplate", resource: r.state.arn, why: r.type }),
  "awsx:ec2:Vpc": (r) => ({ action: "ec2:CreateVpc", resource: arnOf("ec2", `vpc/${r.state.vpcId}`), why: r.type }),
  "aws:batch/computeEnvironment:ComputeEnvironment": (r) => ({ action: "batch:CreateComputeEnvironment", resource: r.state.arn, why: r.type }),
  "aws:batch/jobQueue:JobQueue": (r) => ({ action: "batch:CreateJobQueue", resource: r.state.arn, why: r.type }),
  "aws:batch/jobDefinition:JobDefinition": (r) => ({ action: "batch:RegisterJobDefinition", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/logGroup:LogGroup": (r) => ({ action: "logs:CreateLogGroup", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": (r) => ({ action: "logs:PutResourcePolicy", resource: "*", why: r.type }),
  "aws:cloudwatch/metricAlarm:MetricAlarm": (r) => ({ action: "cloudwatch:PutMetricAlarm", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/eventRule:EventRule": (r) => ({ action: "events:PutRule", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/eventTarget:EventTarget": (r) => ({ action: "events:PutTargets", resource: arnOf("events", `rule/${r.inputs.rule}`), why: r.type }),
  "aws:sqs/queue:Queue": (r) => ({ action: "sqs:CreateQueue", resource: r.state.arn, why: r.type }),
  "aws:sns/topic:Topic": (r) => ({ action: "sns:CreateTopic", resource: r.state.arn, why: r.type }),
  "aws:sns/topicPolicy:TopicPolicy": (r) => ({ action: "sns:SetTopicAttributes", resource: r.inputs.arn, why: r.type }),
  "aws:dynamodb/table:Table": (r) => ({ action: "dynamodb:CreateTable", resource: r.state.arn, why: r.type }),
  "aws:lambda/function:Function": (r) => ({ action: "lambda:CreateFunction", resource: r.state.arn, why: r.type }),
  "aws:lambda/permission:Permission": (r) => ({ action: "lambda:AddPermission", resource: arnOf("lambda", `function:${r.inputs.function}`), why: r.type }),
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (r) => ({ action: "lambda:PutFunctionEventInvokeConfig", resource: arnOf("lambda", `function:${r.inputs.functionName}`), why: r.type }),
  "aws:ecr/repository:Repository": (r) => ({ action: "ecr:CreateRepository", resource: r.state.arn, why: r.type }),
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": (r) => ({ action: "ecr:PutLifecyclePolicy", resource: arnOf("ecr", `repository/${r.inputs.repository}`), why: r.type }),
  "awsx:ecr:Image": (r) => ({ action: "ecr:PutImage", resource: arnOf("ecr", `repository/${String(r.inputs.repositoryUrl).split("/").pop()}`), why: r.type }),
};

describe("the deploy role, simulated against AWS's authorization data", () => {
  it("may create every resource of the production example stack, on its own ARN", async () => {
    const resources = stack.resources.filter((r) => !r.type.startsWith(`${PROJECT}:`));
    // A resource type the stack starts to create needs its permission proven here first.
    expect([...new Set(resources.map((r) => r.type))].filter((t) => !(t in CREATE))).toEqual([]);
    await allowedAll(deploy, resources.map((r) => CREATE[r.type]!(r)));
  });

  it("may pass the stack's roles to Batch, ECS tasks, EC2 and Lambda, and create Batch's and Spot's service-linked roles", async () => {
    const roles = stack.resources.filter((r) => r.type === "aws:iam/role:Role").map((r) => r.state.arn as string);
    await allowedAll(deploy, [
      ...roles.map((arn) => ({ action: "iam:PassRole", resource: arn, context: { "iam:PassedToService": arn.includes("-trigger-role") ? "lambda.amazonaws.com" : "batch.amazonaws.com" }, why: "CreateFunction / RegisterJobDefinition / CreateComputeEnvironment" })),
      { action: "iam:PassRole", resource: roles.find((a) => a.includes("-exec-role"))!, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" }, why: "Fargate execution role" },
      { action: "iam:CreateServiceLinkedRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch`, context: { "iam:AWSServiceName": "batch.amazonaws.com" }, why: "first compute environment" },
      { action: "iam:CreateServiceLinkedRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`, context: { "iam:AWSServiceName": "spot.amazonaws.com" }, why: "first Spot environment" },
    ]);
  });

  it("may pass a BEST_FIT Spot environment's Spot Fleet role to Spot Fleet, and no other role there", async () => {
    const prod = resourcePrefix(PROJECT, "prod");
    const toSpotFleet = { "iam:PassedToService": "spotfleet.amazonaws.com" };
    // The name infra/platform.ts and infra/computeEnvironment.ts give it: `<prefix>-spot-spot-fleet-role-<7>`.
    await allowedAll(deploy, [{ action: "iam:PassRole", resource: role(`${prod}${SPOT_FLEET_ROLE}1a2b3c4`), context: toSpotFleet, why: "CreateComputeEnvironment spotIamFleetRole" }]);
    await deniedAll(deploy, [
      { action: "iam:PassRole", resource: role(`${prod}-process-role-1a2b3c4`), context: toSpotFleet, why: "a job role is no fleet role" },
      { action: "iam:PassRole", resource: role(`${prod}-spot-instance-role-1a2b3c4`), context: toSpotFleet, why: "nor is an instance role" },
      { action: "iam:PassRole", resource: role(`${resourcePrefix(PROJECT, "no-such-stack")}${SPOT_FLEET_ROLE}1a2b3c4`), context: toSpotFleet, why: "another stack's fleet role" },
    ]);
  });

  it("may read Powertools' layer only in the account AWS publishes it from", async () => {
    const layer = (account: string) => `arn:aws:lambda:${REGION}:${account}:layer:${POWERTOOLS_LAYER_NAME}:44`;
    await allowedAll(deploy, [{ action: "lambda:GetLayerVersion", resource: layer(POWERTOOLS_LAYER_ACCOUNT), why: "CreateFunction with the layer" }]);
    await deniedAll(deploy, [{ action: "lambda:GetLayerVersion", resource: layer("999988887777"), why: "a layer of that name in someone else's account" }]);
  });

  it("may read and write the stack state and use the secrets key", async () => {
    await allowedAll(deploy, [
      { action: "s3:ListBucket", resource: `arn:aws:s3:::${params.stateBucket}`, why: "DIY backend" },
      { action: "s3:PutObject", resource: `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi/stacks/batch-pipeline/prod.json`, why: "checkpoint" },
      { action: "s3:DeleteObject", resource: `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi/locks/organization/batch-pipeline/prod/lock.json`, why: "lock" },
      { action: "kms:Encrypt", resource: params.secretsKeyArn, why: "awskms secrets provider" },
      { action: "kms:Decrypt", resource: params.secretsKeyArn, why: "awskms secrets provider" },
    ]);
  });

  it("may not touch other stacks' or teams' resources, pass roles elsewhere, attach broad policies or read the pipeline's data", async () => {
    // A stack with no Pulumi.<stack>.yaml (not `staging`: a user may have added that one).
    const staging = resourcePrefix(PROJECT, "no-such-stack");
    const prod = resourcePrefix(PROJECT, "prod");
    const input = stack.resources.find((r) => r.type === "aws:s3/bucket:Bucket")!.state.arn;
    await deniedAll(deploy, [
      { action: "iam:CreateRole", resource: role("other-team-role"), why: "unprefixed" },
      { action: "iam:CreateRole", resource: role(`${staging}-process-role-1a2b3c4`), why: "a stack without a Pulumi.<stack>.yaml" },
      { action: "iam:PassRole", resource: role(`${prod}-process-role-1a2b3c4`), context: { "iam:PassedToService": "states.amazonaws.com" }, why: "a service the stack never passes roles to" },
      { action: "iam:PassRole", resource: role("admin"), context: { "iam:PassedToService": "batch.amazonaws.com" }, why: "someone else's role" },
      { action: "iam:AttachRolePolicy", resource: role(`${prod}-process-role-1a2b3c4`), context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" }, why: "a broad managed policy" },
      { action: "iam:CreateServiceLinkedRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk`, context: { "iam:AWSServiceName": "elasticbeanstalk.amazonaws.com" }, why: "another service" },
      { action: "iam:CreateUser", resource: `arn:aws:iam::${ACCOUNT_ID}:user/${prod}-user`, why: "no users, no keys" },
      { action: "s3:CreateBucket", resource: "arn:aws:s3:::someone-elses-bucket", why: "unprefixed" },
      { action: "s3:GetObject", resource: `${input}/incoming/data.csv`, why: "the pipeline's data" },
      { action: "s3:PutObject", resource: `arn:aws:s3:::${params.stateBucket}/other-project/.pulumi/stacks/x.json`, why: "another project's state" },
      { action: "kms:Decrypt", resource: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/00000000-0000-0000-0000-000000000000`, why: "another key" },
      { action: "lambda:InvokeFunction", resource: arnOf("lambda", `function:${prod}-trigger-fn-1a2b3c4`), why: "running the pipeline" },
      { action: "batch:SubmitJob", resource: arnOf("batch", `job-queue/${prod}-high-queue-1a2b3c4`), why: "running the pipeline" },
    ]);
  });
});

describe("the preview role, simulated against AWS's authorization data", () => {
  const version = (JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> }).dependencies["@aws-lambda-powertools/idempotency"]!;

  it("may read the state, decrypt secrets and make the program's lookups", async () => {
    await allowedAll({ preview }, [
      { action: "s3:ListBucket", resource: `arn:aws:s3:::${params.stateBucket}`, why: "DIY backend" },
      { action: "s3:GetObject", resource: `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi/stacks/batch-pipeline/prod.json`, why: "checkpoint" },
      { action: "kms:Decrypt", resource: params.secretsKeyArn, why: "secrets in config" },
      { action: "ec2:DescribeSubnets", resource: "*", why: "aws.ec2.getSubnets" },
      // A public parameter's ARN has an empty account field, which the simulator's ARN matching does not
      // take; the policy's resource has `*` there, which matches both.
      { action: "ssm:GetParameter", resource: arnOf("ssm", `parameter${powertoolsLayerParameter(version)}`), why: "AWS's public Powertools parameter" },
    ]);
  });

  it("may change nothing: no state writes, no encryption, no resource creation", async () => {
    await deniedAll({ preview }, [
      { action: "s3:PutObject", resource: `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi/stacks/batch-pipeline/prod.json`, why: "checkpoint" },
      { action: "kms:Encrypt", resource: params.secretsKeyArn, why: "pulumi config set --secret" },
      { action: "iam:CreateRole", resource: role(`${resourcePrefix(PROJECT, "prod")}-process-role-1a2b3c4`), why: "pulumi up" },
      { action: "batch:CreateComputeEnvironment", resource: arnOf("batch", `compute-environment/${resourcePrefix(PROJECT, "prod")}-spot-ce-1a2b3c4`), why: "pulumi up" },
      { action: "ec2:CreateSecurityGroup", resource: arnOf("ec2", "security-group/*"), why: "pulumi up" },
    ]);
  });
});
