/**
 * The GitHub Actions roles (deploy/: per stack, a deploy role, a preview role and a permissions boundary),
 * checked by the same IAM tooling as the stack's own roles: AWS's authorization data knows every action,
 * resource type and condition key they name; the committed JSON is what deploy/render.ts writes; each fits
 * IAM's size limit; and, simulated with AWS's evaluation logic, prod's deploy role may create every resource
 * the production example stack declares (on the ARN the mocks give it, with the boundary) while it may not
 * touch other stacks' or teams' resources, pass roles elsewhere, read the pipeline's data, or escalate
 * (a role without the boundary, the boundary removed or rewritten, a trust rewritten); the dev role cannot
 * touch prod. Which further calls the AWS provider makes per resource (reads, tags, waits) is not provable
 * offline: the README says so.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePrefix } from "../../stack/naming";
import { POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME, powertoolsLayerParameter } from "../../stack/lambdaPackages";
import { boundaryArnOf, deployRolePolicies, MANAGED_POLICY_MAX_CHARS, type PolicyDocument, policyChars, secretsKeyOf, SPOT_FLEET_ROLE, STACK_TAG, stackRoles, subjects } from "../../deploy/policies";
import { EXAMPLE, renderAll } from "../../deploy/render";
import { TAG_KEYS } from "../../contract";
import { noWildcardAllow } from "../../policy/iam";
import { ACCOUNT_ID, type MockedStack, PROJECT, REGION, setupPulumiMocks, settle } from "../mocks";
import { type AwsRequest, simulate, unknownToAws, type PolicyStatementJson } from "../support/iam";
import { stackFileConfig } from "../support/stacks";
import { renderedStatementRequests } from "./boundaryRequests";
import { createCalls } from "./createCalls";
import { assertNone, roleDocumentProblems } from "./stackChecks";

const DEPLOY_DIR = join(__dirname, "..", "..", "deploy");
const params = { ...EXAMPLE, accountId: ACCOUNT_ID };
const prodRoles = stackRoles(params, "prod");
const devRoles = stackRoles(params, "dev");
/** prod's deploy role: what the production example stack is deployed with. */
const deploy = prodRoles.deployPolicies;
const boundary = prodRoles.boundary;
const BOUNDARY = boundaryArnOf(params, "prod");
/** Every stack's documents, by a name for messages. */
const everyDocument = Object.fromEntries(
  params.stacks.flatMap((s) => {
    const r = stackRoles(params, s);
    return [...Object.entries(r.deployPolicies).map(([part, doc]) => [`deploy-${s}-${part}`, doc] as const), [`preview-${s}`, r.previewPolicy] as const, [`boundary-${s}`, r.boundary] as const];
  }),
) as Record<string, PolicyDocument>;
const PRINCIPAL = `arn:aws:iam::${ACCOUNT_ID}:role/github-actions`;
let stack: MockedStack;

beforeAll(async () => {
  // The production example (a new VPC, Fargate, every resource type), deployed as stack `prod` with the
  // boundary its deploy role requires.
  stack = await setupPulumiMocks({ ...stackFileConfig("Pulumi.prod.yaml"), permissionsBoundaryArn: BOUNDARY }, { stack: "prod" });
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
    const problems = await Promise.all(Object.values(everyDocument).map((doc) => unknownToAws(statements(doc))));
    expect(problems.flat()).toEqual([]);
  });

  it("allow exact actions only, as the policy pack requires of the stack's own roles", () => {
    for (const doc of Object.values(everyDocument)) {
      const reports: string[] = [];
      const args = { type: "aws:iam/policy:Policy", name: "github-actions", props: { policy: JSON.stringify(doc) }, notApplicable: () => { throw new Error("not applicable"); } };
      (noWildcardAllow.validateResource as (a: unknown, r: (m: string) => void) => void)(args, (m) => reports.push(m));
      expect(reports).toEqual([]);
    }
  });

  it("each fit in one managed policy (6,144 characters without whitespace)", () => {
    for (const [part, doc] of Object.entries(everyDocument)) expect(JSON.stringify(doc).length, part).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
  });

  it("given more stacks, render one deploy role per stack, each within IAM's limits, and together granting what one role for all of them would", () => {
    const many = { ...params, stacks: ["dev", "prod", "staging", "qa", "perf"] };
    const granted = (docs: PolicyDocument[]) => new Set(docs.flatMap((doc) => doc.Statement.filter((st) => st.Effect === "Allow").flatMap((st) => [st.Action].flat().flatMap((a) => [st.Resource].flat().map((r) => `${a} ${r}`)))));
    const perStack = many.stacks.map((s) => stackRoles(many, s).deployPolicies);
    for (const docs of perStack) {
      expect(Object.keys(docs).length).toBeLessThanOrEqual(10);
      for (const [part, doc] of Object.entries(docs)) expect(policyChars(doc), part).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
    }
    const split = granted(perStack.flatMap((d) => Object.values(d)));
    expect([...granted(Object.values(deployRolePolicies(many)))].filter((g) => !split.has(g))).toEqual([]);
  });
});

const arnOf = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
/** The call that creates each resource type of the stack (its roles with prod's boundary). */
const CREATE = createCalls(BOUNDARY);

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

  it("opens the trigger only to S3 and subscribes only email to the failure topic (resource policies the program writes)", async () => {
    const prod = resourcePrefix(PROJECT, "prod");
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${prod}-trigger-fn-1a2b3c4`;
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${prod}-failures-1a2b3c4`;
    await allowedAll(deploy, [
      { action: "lambda:AddPermission", resource: fn, context: { "lambda:Principal": "s3.amazonaws.com" }, why: "the bucket notification's permission" },
      { action: "sns:Subscribe", resource: topic, context: { "sns:Protocol": "email" }, why: "notifications.email" },
    ]);
    await deniedAll(deploy, [
      { action: "lambda:AddPermission", resource: fn, context: { "lambda:Principal": "*" }, why: "the trigger opened to anyone" },
      { action: "lambda:AddPermission", resource: fn, context: { "lambda:Principal": "999988887777" }, why: "the trigger opened to another account" },
      { action: "sns:Subscribe", resource: topic, context: { "sns:Protocol": "https" }, why: "failures delivered to an outside endpoint" },
      { action: "sns:Subscribe", resource: topic, context: { "sns:Protocol": "sqs" }, why: "failures delivered to another account's queue" },
    ]);
  });

  it("writes the input bucket's policy once: with it in place, nobody it runs as may rewrite or remove it (S3 leaves that to the account's root user)", async () => {
    const written = stack.resources.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!;
    const bucketPolicy = JSON.parse(String(written.inputs.policy)) as PolicyDocument;
    const bucket = `arn:aws:s3:::${written.inputs.bucket}`;
    expect(written.retainOnDelete, "a destroy leaves the policy to the bucket's deletion").toBe(true);
    const withPolicy = async (request: AwsRequest) => {
      const result = await simulate(PRINCIPAL, ACCOUNT_ID, deploy as never, request, bucketPolicy as never);
      return `${request.action} (${request.why}): ${result.result}`;
    };
    // The first write (the bucket has no policy yet) is a deploy's.
    await allowedAll(deploy, [{ action: "s3:PutBucketPolicy", resource: bucket, why: "the policy's first write" }]);
    const later = await Promise.all([
      { action: "s3:PutBucketPolicy", resource: bucket, why: "granting the data to another account" },
      { action: "s3:DeleteBucketPolicy", resource: bucket, why: "removing TLS-only and the lock" },
    ].map(withPolicy));
    expect(later).toEqual(["s3:PutBucketPolicy (granting the data to another account): ExplicitlyDenied", "s3:DeleteBucketPolicy (removing TLS-only and the lock): ExplicitlyDenied"]);
    // The lock denies the policy writes only: the deploy's other bucket calls still pass with it in place.
    expect(await withPolicy({ action: "s3:PutBucketVersioning", resource: bucket, context: { "aws:SecureTransport": "true" }, why: "versioning" })).toMatch(/: Allowed$/);
    // Nor can the deploy role open the bucket another way: ACLs, access points, replication, another owner.
    await deniedAll(deploy, ["s3:PutBucketAcl", "s3:PutObjectAcl", "s3:CreateAccessPoint", "s3:PutReplicationConfiguration", "s3:PutBucketOwnershipControls"].map((action) => ({
      action, resource: action === "s3:PutObjectAcl" ? `${bucket}/incoming/a.csv` : action === "s3:CreateAccessPoint" ? `arn:aws:s3:${REGION}:${ACCOUNT_ID}:accesspoint/out` : action === "s3:PutBucketOwnershipControls" ? "arn:aws:s3:::someone-elses-bucket" : bucket, why: "another way in",
    })));
  });

  it("may create the operator policy but never rewrite it: people hold it, so a change creates a new policy and keeps the old", async () => {
    const prod = resourcePrefix(PROJECT, "prod");
    const operator = `arn:aws:iam::${ACCOUNT_ID}:policy/${prod}-operator-policy-1a2b3c4`;
    const written = stack.resources.find((r) => r.type === "aws:iam/policy:Policy")!;
    expect([written.replaceOnChanges, written.retainOnDelete]).toEqual([["policy"], true]);
    await allowedAll(deploy, [{ action: "iam:CreatePolicy", resource: operator, why: "the operator policy, or its replacement" }]);
    await deniedAll(deploy, ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"].flatMap((action): AwsRequest[] => [
      { action, resource: operator, why: "rewriting what its holders may do" },
      { action, resource: `arn:aws:iam::${ACCOUNT_ID}:policy/AdminsPolicy`, why: "rewriting another managed policy" },
    ]).concat([
      { action: "iam:AttachUserPolicy", resource: `arn:aws:iam::${ACCOUNT_ID}:user/someone`, context: { "iam:PolicyARN": operator }, why: "giving a policy it wrote to a person" },
      { action: "iam:AttachGroupPolicy", resource: `arn:aws:iam::${ACCOUNT_ID}:group/operators`, context: { "iam:PolicyARN": operator }, why: "giving a policy it wrote to a group" },
      { action: "iam:PutUserPolicy", resource: `arn:aws:iam::${ACCOUNT_ID}:user/someone`, why: "an inline policy on a person" },
    ]));
  });

  it("puts the event rules' targets only in this account (events:TargetArn): job states never go to another account", async () => {
    const prod = resourcePrefix(PROJECT, "prod");
    const rule = `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/${prod}-job-states-1a2b3c4`;
    const own = [`arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/events/${prod}-job-states-1a2b3c4`, `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${prod}-failures-1a2b3c4`];
    await allowedAll(deploy, own.map((target) => ({ action: "events:PutTargets", resource: rule, context: { "events:TargetArn": [target] }, why: "the program's targets" })));
    await deniedAll(deploy, [
      { action: "events:PutTargets", resource: rule, context: { "events:TargetArn": [`arn:aws:events:${REGION}:999988887777:event-bus/default`] }, why: "another account's bus" },
      { action: "events:PutTargets", resource: rule, context: { "events:TargetArn": [own[0]!, `arn:aws:sqs:${REGION}:999988887777:collector`] }, why: "one target of two in another account" },
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
      { action: "s3:PutObject", resource: `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi/history/batch-pipeline/prod/prod-1733600000000.checkpoint.json`, why: "history" },
      { action: "s3:GetObject", resource: `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi/meta.yaml`, why: "backend version" },
      { action: "kms:Encrypt", resource: secretsKeyOf(params, "prod"), why: "awskms secrets provider" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "prod"), why: "awskms secrets provider" },
    ]);
  });

  it("is trusted by the prod environment's jobs only; each stack's role by its own subjects, GitHub's default or the ID-bearing ones", () => {
    const subs = (trust: PolicyDocument) => Object.values(trust.Statement[0]!.Condition!).flatMap((c) => [c["token.actions.githubusercontent.com:sub"] ?? []].flat());
    expect(subs(prodRoles.deployTrust)).toEqual([`repo:${params.repository}:environment:prod`]);
    // An unprotected stack's role: pushes to main only, never `environment:<stack>` (any branch's workflow may
    // name an environment that has no reviewers or branch rules).
    expect(subs(devRoles.deployTrust)).toEqual([`repo:${params.repository}:ref:refs/heads/main`]);
    const immutable = { ...params, repositoryIds: { owner: "1234567", repository: "89012345" }, jobWorkflowRef: true };
    expect(subs(stackRoles(immutable, "dev").deployTrust)).toEqual([`repository_owner_id:1234567:repository_id:89012345:ref:refs/heads/main:job_workflow_ref:${params.repository}/.github/workflows/deploy.yml@refs/heads/main`]);
    for (const stack of params.stacks.filter((s) => s !== params.protectedStack)) {
      for (const p of [params, immutable]) expect(subs(stackRoles(p, stack).deployTrust).filter((sub) => sub.includes(":environment:")), stack).toEqual([]);
    }
    expect(subs(stackRoles(immutable, "prod").deployTrust)).toEqual([`repository_owner_id:1234567:repository_id:89012345:environment:prod:job_workflow_ref:${params.repository}/.github/workflows/deploy.yml@refs/heads/main`]);
    expect(stackRoles(immutable, "dev").previewTrust.Statement[0]!.Condition).toEqual({
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
      StringLike: { "token.actions.githubusercontent.com:sub": [`repository_owner_id:1234567:repository_id:89012345:pull_request:job_workflow_ref:${params.repository}/.github/workflows/preview.yml@refs/pull/*/merge`] },
    });
    // What deploy.yml's jobs present (tests/deploy/workflows.test.ts): exactly the subjects some role accepts.
    expect(subjects.deploy(params)).toEqual([`repo:${params.repository}:ref:refs/heads/main`, `repo:${params.repository}:environment:prod`]);
  });

  it("of dev cannot touch prod: its resources, its roles and boundary, its state or its secrets", async () => {
    const prod = resourcePrefix(PROJECT, "prod");
    const dev = resourcePrefix(PROJECT, "dev");
    const state = `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi`;
    const input = stack.resources.find((r) => r.type === "aws:s3/bucket:Bucket")!.state.arn;
    await deniedAll(devRoles.deployPolicies, [
      { action: "iam:CreateRole", resource: role(`${prod}-process-role-1a2b3c4`), context: { "iam:PermissionsBoundary": BOUNDARY }, why: "a prod role" },
      { action: "iam:PutRolePolicy", resource: role(`${prod}-process-role-1a2b3c4`), context: { "iam:PermissionsBoundary": BOUNDARY }, why: "widening a prod role" },
      { action: "iam:CreateRole", resource: role(`${dev}-process-role-1a2b3c4`), context: { "iam:PermissionsBoundary": BOUNDARY }, why: "a dev role under prod's boundary (which reaches prod's data)" },
      { action: "iam:PassRole", resource: role(`${prod}-process-role-1a2b3c4`), context: { "iam:PassedToService": "batch.amazonaws.com" }, why: "running as prod's role" },
      { action: "s3:PutBucketNotification", resource: input, why: "prod's bucket" },
      { action: "lambda:UpdateFunctionCode", resource: arnOf("lambda", `function:${prod}-trigger-fn-1a2b3c4`), why: "prod's function" },
      { action: "batch:UpdateComputeEnvironment", resource: arnOf("batch", `compute-environment/${prod}-spot-ce-1a2b3c4`), why: "prod's compute" },
      { action: "s3:GetObject", resource: `${state}/stacks/batch-pipeline/prod.json`, why: "prod's state" },
      { action: "s3:PutObject", resource: `${state}/stacks/batch-pipeline/prod.json`, why: "prod's state" },
      { action: "s3:PutObject", resource: `${state}/locks/organization/batch-pipeline/prod/lock.json`, why: "prod's lock" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "prod"), why: "prod's secrets" },
    ]);
    await allowedAll(devRoles.deployPolicies, [
      { action: "s3:PutObject", resource: `${state}/stacks/batch-pipeline/dev.json`, why: "its own state" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "dev"), why: "its own secrets" },
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

describe("EC2: the deploy role changes only the EC2 resources of its stack (by tag)", () => {
  const prod = resourcePrefix(PROJECT, "prod");
  const dev = resourcePrefix(PROJECT, "dev");
  const own = { [`aws:ResourceTag/${STACK_TAG}`]: prod };
  const ec2 = (resource: string) => arnOf("ec2", resource);

  it("tags every EC2 resource the stack creates with its stack tag (contract/tags.ts), so its deploy role can reach them", () => {
    expect(STACK_TAG).toBe(TAG_KEYS.stack);
    const ec2Resources = stack.resources.filter((r) => ["aws:ec2/securityGroup:SecurityGroup", "aws:ec2/launchTemplate:LaunchTemplate", "awsx:ec2:Vpc"].includes(r.type));
    expect(ec2Resources.length).toBeGreaterThan(3);
    for (const r of ec2Resources) expect(r.inputs.tags?.[STACK_TAG], r.name).toBe(prod);
    const vpc = stack.resources.find((r) => r.type === "awsx:ec2:Vpc")!;
    for (const spec of vpc.inputs.subnetSpecs as { tags?: Record<string, string> }[]) expect(spec.tags?.[STACK_TAG]).toBe(prod);
  });

  it("may create them tagged, tag them in the create call, and change, network and delete its own", async () => {
    const tagged = { [`aws:RequestTag/${STACK_TAG}`]: prod, "aws:TagKeys": [STACK_TAG] };
    await allowedAll(deploy, [
      { action: "ec2:CreateTags", resource: ec2("security-group/sg-0123456789abcdef0"), context: { "ec2:CreateAction": "CreateSecurityGroup", ...tagged }, why: "tag on create" },
      { action: "ec2:CreateSecurityGroup", resource: ec2("vpc/vpc-0default0000000a"), context: tagged, why: "a group in the default VPC" },
      { action: "ec2:CreateSubnet", resource: ec2("subnet/*"), context: tagged, why: "awsx subnet" },
      { action: "ec2:CreateSubnet", resource: ec2("vpc/vpc-0123456789abcdef0"), context: { ...tagged, ...own }, why: "in its own VPC" },
      { action: "ec2:CreateNatGateway", resource: ec2("natgateway/*"), context: tagged, why: "awsx NAT gateway" },
      { action: "ec2:AllocateAddress", resource: ec2("elastic-ip/*"), context: tagged, why: "awsx EIP" },
      { action: "ec2:CreateLaunchTemplateVersion", resource: ec2("launch-template/lt-0123456789abcdef0"), context: own, why: "a new AMI or setting" },
      { action: "ec2:AuthorizeSecurityGroupEgress", resource: ec2("security-group/sg-0123456789abcdef0"), context: own, why: "egress rule" },
      { action: "ec2:CreateRoute", resource: ec2("route-table/rtb-0123456789abcdef0"), context: own, why: "awsx routes" },
      { action: "ec2:DeleteVpc", resource: ec2("vpc/vpc-0123456789abcdef0"), context: own, why: "pulumi destroy" },
      { action: "ec2:CreateTags", resource: ec2("security-group/sg-0123456789abcdef0"), context: { ...own, ...tagged }, why: "retagging its own group with its tag" },
      { action: "ec2:CreateTags", resource: ec2("launch-template/lt-0123456789abcdef0"), context: { ...own, "aws:RequestTag/project": "batch", "aws:TagKeys": ["project"] }, why: "a config tag changed (the stack tag not in the request)" },
    ]);
  });

  it("may not create them untagged, nor touch another team's (or stack's) launch templates, groups, routes, VPCs and subnets", async () => {
    const other = (value: string): Record<string, string> => ({ [`aws:ResourceTag/${STACK_TAG}`]: value });
    await deniedAll(deploy, [
      { action: "ec2:CreateSecurityGroup", resource: ec2("security-group/*"), why: "untagged" },
      { action: "ec2:CreateLaunchTemplate", resource: ec2("launch-template/*"), context: { [`aws:RequestTag/${STACK_TAG}`]: dev }, why: "tagged for another stack" },
      { action: "ec2:CreateTags", resource: ec2("security-group/sg-0fedcba9876543210"), context: { [`aws:RequestTag/${STACK_TAG}`]: prod }, why: "claiming another team's group by tagging it" },
      { action: "ec2:CreateLaunchTemplateVersion", resource: ec2("launch-template/lt-0fedcba9876543210"), why: "another team's launch template" },
      { action: "ec2:ModifyLaunchTemplate", resource: ec2("launch-template/lt-0fedcba9876543210"), context: other(dev), why: "the dev stack's launch template" },
      { action: "ec2:AuthorizeSecurityGroupEgress", resource: ec2("security-group/sg-0fedcba9876543210"), why: "another team's group" },
      { action: "ec2:CreateRoute", resource: ec2("route-table/rtb-0fedcba9876543210"), why: "another team's routes" },
      { action: "ec2:ReplaceRoute", resource: ec2("route-table/rtb-0fedcba9876543210"), context: other("someone-else"), why: "another team's routes" },
      { action: "ec2:DeleteVpc", resource: ec2("vpc/vpc-0fedcba9876543210"), why: "another team's VPC" },
      { action: "ec2:CreateSubnet", resource: ec2("vpc/vpc-0fedcba9876543210"), context: { [`aws:RequestTag/${STACK_TAG}`]: prod }, why: "a subnet in another team's VPC" },
      { action: "ec2:ModifySubnetAttribute", resource: ec2("subnet/subnet-0fedcba9876543210"), why: "another team's subnet" },
      { action: "ec2:DeleteNatGateway", resource: ec2("natgateway/nat-0fedcba9876543210"), why: "another team's NAT gateway" },
      // Its own resources relabelled as another stack's (whose boundary lets its roles launch into groups tagged its own).
      { action: "ec2:CreateTags", resource: ec2("security-group/sg-0123456789abcdef0"), context: { ...other(prod), [`aws:RequestTag/${STACK_TAG}`]: dev, "aws:TagKeys": [STACK_TAG] }, why: "retagging its own group as dev's" },
      { action: "ec2:CreateTags", resource: ec2("launch-template/lt-0123456789abcdef0"), context: { ...other(prod), [`aws:RequestTag/${STACK_TAG}`]: "someone-else", "aws:TagKeys": [STACK_TAG, "project"] }, why: "retagging its own launch template as another team's" },
    ]);
  });
});

describe("the permissions boundary: nothing the deploy role creates can leave it", () => {
  const prod = resourcePrefix(PROJECT, "prod");
  const processRole = role(`${prod}-process-role-1a2b3c4`);

  it("is on every role the stack creates (stack config permissionsBoundaryArn), and a trust change replaces the role instead of rewriting it", () => {
    const roles = stack.resources.filter((r) => r.type === "aws:iam/role:Role");
    expect(roles.length).toBeGreaterThan(3);
    for (const r of roles) {
      expect(r.inputs.permissionsBoundary, r.name).toBe(BOUNDARY);
      expect(r.replaceOnChanges, r.name).toEqual(["assumeRolePolicy"]);
    }
  });

  it.each(params.stacks)("keeps %s's deploy role from creating or changing a role without its boundary, removing or replacing it, writing it or any policy version, or rewriting a trust", async (name) => {
    const deploy = stackRoles(params, name).deployPolicies;
    const prod = resourcePrefix(PROJECT, name);
    const BOUNDARY = boundaryArnOf(params, name);
    const processRole = role(`${prod}-process-role-1a2b3c4`);
    const bounded = { "iam:PermissionsBoundary": BOUNDARY };
    await deniedAll(deploy, [
      { action: "iam:CreateRole", resource: role(`${prod}-backdoor`), why: "a role without a boundary" },
      { action: "iam:CreateRole", resource: role(`${prod}-backdoor`), context: { "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess" }, why: "a role with another boundary" },
      { action: "iam:PutRolePolicy", resource: processRole, why: "an inline policy on a role without the boundary (one created before it)" },
      { action: "iam:AttachRolePolicy", resource: processRole, context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" }, why: "a managed policy on a role without the boundary" },
      { action: "iam:UpdateRole", resource: processRole, why: "changing a role without the boundary" },
      { action: "iam:DeleteRolePermissionsBoundary", resource: processRole, context: bounded, why: "removing the boundary" },
      { action: "iam:PutRolePermissionsBoundary", resource: processRole, context: { "iam:PermissionsBoundary": `arn:aws:iam::${ACCOUNT_ID}:policy/${prod}-operator-1a2b3c4` }, why: "replacing the boundary with a policy it writes" },
      { action: "iam:UpdateAssumeRolePolicy", resource: processRole, context: bounded, why: "rewriting a trust (to an outside account: IAM cannot read the document)" },
      ...["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy", "iam:CreatePolicy"].map((action) => ({ action, resource: BOUNDARY, why: "writing the boundary itself" })),
      ...params.stacks.filter((other) => other !== name).map((other) => ({ action: "iam:CreateRole", resource: role(`${prod}-backdoor`), context: { "iam:PermissionsBoundary": boundaryArnOf(params, other) }, why: `a role with ${other}'s boundary` })),
      ...["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"].map((action) => ({ action, resource: `arn:aws:iam::${ACCOUNT_ID}:policy/${prod}-operator-policy-1a2b3c4`, why: "rewriting the operator policy people hold" })),
      { action: "iam:PassRole", resource: role("someone-elses-unbounded-role"), context: { "iam:PassedToService": "lambda.amazonaws.com" }, why: "passing an unbounded role" },
      { action: "iam:CreateRole", resource: role("batch-pipeline-deploy"), context: bounded, why: "a role outside the stacks' prefixes, even bounded" },
    ]);
    // What a deploy does with the boundary: create, change and delete bounded roles, give a role created before it the boundary.
    await allowedAll(deploy, [
      { action: "iam:CreateRole", resource: processRole, context: bounded, why: "CreateRole" },
      { action: "iam:PutRolePolicy", resource: processRole, context: bounded, why: "RolePolicy" },
      { action: "iam:DeleteRolePolicy", resource: processRole, context: bounded, why: "RolePolicy deleted" },
      { action: "iam:PutRolePermissionsBoundary", resource: processRole, context: bounded, why: "a role created before the boundary gets it" },
      // Taking permissions away from a role created before the boundary, and deleting it once replaced.
      { action: "iam:DeleteRolePolicy", resource: processRole, why: "an unbounded role emptied" },
      { action: "iam:DetachRolePolicy", resource: processRole, context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" }, why: "an unbounded role emptied" },
      { action: "iam:DeleteRole", resource: processRole, why: "an unbounded role deleted after its replacement" },
    ]);
  });

  /** Whether the boundary lets a role with these identity policies make the request. */
  const throughBoundary = async (identity: PolicyDocument, request: AwsRequest) => {
    const result = await simulate(role(`${prod}-some-role-1a2b3c4`), ACCOUNT_ID, { identity } as never, request, undefined, boundary as never);
    return `${request.action} on ${request.resource} (${request.why}): ${result.result}${result.errors ? ` ${result.errors}` : ""}`;
  };

  it("allows every statement of every role policy the stack renders (their actions on their resources, with the context their conditions require)", async () => {
    const requests = renderedStatementRequests(stack);
    expect(requests.length).toBeGreaterThan(20);
    const outcomes = await Promise.all(requests.map(({ identity, request }) => throughBoundary(identity, request)));
    expect(outcomes.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
  });

  it("denies a role with an Allow of everything any IAM write, role assumption, resource-policy write, or another team's data", async () => {
    const admin = { Version: "2012-10-17", Statement: [{ Sid: "Everything", Effect: "Allow", Action: ["*"], Resource: ["*"] }] } as unknown as PolicyDocument;
    const input = stack.resources.find((r) => r.type === "aws:s3/bucket:Bucket")!.state.arn;
    const requests: AwsRequest[] = [
      { action: "iam:CreateRole", resource: role("backdoor"), why: "an identity" },
      { action: "iam:PutRolePolicy", resource: processRole, why: "widening itself" },
      { action: "iam:CreateUser", resource: `arn:aws:iam::${ACCOUNT_ID}:user/backdoor`, why: "a user with keys" },
      { action: "iam:CreatePolicyVersion", resource: BOUNDARY, why: "changing the boundary" },
      { action: "iam:PassRole", resource: role("admin"), context: { "iam:PassedToService": "lambda.amazonaws.com" }, why: "running as another role" },
      { action: "sts:AssumeRole", resource: role("admin"), why: "becoming another role" },
      { action: "s3:PutBucketPolicy", resource: input, why: "opening the data" },
      { action: "s3:GetObject", resource: "arn:aws:s3:::another-teams-bucket/secret.csv", why: "another team's data" },
      { action: "dynamodb:Scan", resource: arnOf("dynamodb", "table/another-teams-table"), why: "another team's table" },
      { action: "lambda:InvokeFunction", resource: arnOf("lambda", "function:anything"), why: "a service the stack's roles never call" },
      { action: "ec2:AuthorizeSecurityGroupIngress", resource: arnOf("ec2", "security-group/sg-0123456789abcdef0"), why: "opening the network" },
    ];
    const outcomes = await Promise.all(requests.map((r) => throughBoundary(admin, r)));
    expect(outcomes.filter((o) => !/: (ImplicitlyDenied|ExplicitlyDenied)$/.test(o))).toEqual([]);
    // The stack's own data stays reachable through it.
    expect(await throughBoundary(admin, { action: "s3:GetObject", resource: `${input}/incoming/data.csv`, why: "the stack's own data" })).toMatch(/: Allowed$/);
  });
});

describe("the preview roles, simulated against AWS's authorization data", () => {
  const version = (JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> }).dependencies["@aws-lambda-powertools/idempotency"]!;
  const state = `arn:aws:s3:::${params.stateBucket}/${params.statePrefix}.pulumi`;
  const dev = { preview: devRoles.previewPolicy };
  const prod = { preview: prodRoles.previewPolicy };

  it("may read their stack's state, decrypt its secrets (not the protected stack's) and make the program's lookups", async () => {
    await allowedAll(dev, [
      { action: "s3:ListBucket", resource: `arn:aws:s3:::${params.stateBucket}`, why: "DIY backend" },
      { action: "s3:GetObject", resource: `${state}/stacks/batch-pipeline/dev.json`, why: "checkpoint" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "dev"), why: "secrets in config" },
      { action: "ec2:DescribeSubnets", resource: "*", why: "aws.ec2.getSubnets" },
      // A public parameter's ARN has an empty account field, which the simulator's ARN matching does not
      // take; the policy's resource has `*` there, which matches both.
      { action: "ssm:GetParameter", resource: arnOf("ssm", `parameter${powertoolsLayerParameter(version)}`), why: "AWS's public Powertools parameter" },
    ]);
    await allowedAll(prod, [{ action: "s3:GetObject", resource: `${state}/stacks/batch-pipeline/prod.json`, why: "checkpoint" }]);
  });

  it("may change nothing, read no other stack's state, and never decrypt the protected stack's secrets (a pull request can change the preview workflow)", async () => {
    await deniedAll(dev, [
      { action: "s3:PutObject", resource: `${state}/stacks/batch-pipeline/dev.json`, why: "checkpoint" },
      { action: "kms:Encrypt", resource: secretsKeyOf(params, "dev"), why: "pulumi config set --secret" },
      { action: "s3:GetObject", resource: `${state}/stacks/batch-pipeline/prod.json`, why: "prod's state" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "prod"), why: "prod's secrets" },
      { action: "iam:CreateRole", resource: role(`${resourcePrefix(PROJECT, "prod")}-process-role-1a2b3c4`), why: "pulumi up" },
      { action: "batch:CreateComputeEnvironment", resource: arnOf("batch", `compute-environment/${resourcePrefix(PROJECT, "prod")}-spot-ce-1a2b3c4`), why: "pulumi up" },
      { action: "ec2:CreateSecurityGroup", resource: arnOf("ec2", "security-group/*"), why: "pulumi up" },
    ]);
    await deniedAll(prod, [
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "prod"), why: "prod's secrets in a pull request" },
      { action: "s3:PutObject", resource: `${state}/stacks/batch-pipeline/prod.json`, why: "checkpoint" },
    ]);
  });
});
