/**
 * The permissions boundary is the real ceiling of every role a deploy role creates: the deploy role may create a
 * role with its stack's boundary and put any inline policy on it (IAM cannot restrict a policy's contents), and
 * Lambda, EventBridge or Batch can then run code as that role. So a role of one stack with an Allow of `*` on
 * `*`, simulated through its stack's boundary against AWS's authorization data, must reach nothing of another
 * stack (prod's queues, definitions, jobs, instances, secrets and state key) or another team (secrets,
 * parameters, tags, instances of the account); while what the pipeline's own roles and the AWS managed policies
 * of its instance and Spot Fleet roles call on the stack's own resources stays allowed (the rendered role
 * policies pass through it in roles.test.ts and boundaryWorkloads.test.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type PolicyDocument, secretsKeyOf, STACK_TAG, stackRoles } from "../../deploy/policies";
import { configResources, EXAMPLE, projectStackResources } from "../../deploy/render";
import { resourcePrefix } from "../../stack/naming";
import { ACCOUNT_ID, PROJECT, REGION } from "../mocks";
import { type AwsRequest, simulate } from "../support/iam";

const params = { ...EXAMPLE, accountId: ACCOUNT_ID };
const dev = resourcePrefix(PROJECT, "dev");
const prod = resourcePrefix(PROJECT, "prod");
const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
/** A secret and a parameter dev's config names (a job definition's `secrets`). */
const NAMED_SECRET = arn("secretsmanager", "secret:app/api-key-AbC123");
const NAMED_PARAMETER = arn("ssm", "parameter/app/db-password");
const devConfig = { jobDefinitions: { stats: { secrets: [{ name: "A", valueFrom: `${NAMED_SECRET}:key::` }, { name: "B", valueFrom: NAMED_PARAMETER }] } } };
/** dev's boundary, rendered with what its config names. */
const boundary = stackRoles({ ...params, stackResources: { dev: configResources(devConfig) } }, "dev").boundary;
const everything = { Version: "2012-10-17", Statement: [{ Sid: "Everything", Effect: "Allow", Action: ["*"], Resource: ["*"] }] } as unknown as PolicyDocument;
/** The default key policy, which lets IAM policies grant use of the key. */
const KEY_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" }],
};

async function through(request: AwsRequest): Promise<string> {
  const keyPolicy = request.action.startsWith("kms:") ? (KEY_POLICY as never) : undefined;
  const result = await simulate(`arn:aws:iam::${ACCOUNT_ID}:role/${dev}-backdoor`, ACCOUNT_ID, { everything } as never, request, keyPolicy, boundary as never);
  return `${request.action} on ${request.resource} (${request.why}): ${result.result}${result.errors ? ` ${result.errors}` : ""}`;
}
const outcomes = (requests: AwsRequest[]) => Promise.all(requests.map(through));

const tag = (key: "RequestTag" | "ResourceTag", value: string) => ({ [`aws:${key}/${STACK_TAG}`]: value });
const profile = (prefix: string) => ({ "ec2:InstanceProfile": `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${prefix}-spot-instance-profile-1a2b3c4` });
const cluster = (prefix: string) => arn("ecs", `cluster/${prefix}-spot-ce-1a2b3c4_Batch_0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`);

describe("a role of the dev stack with an Allow of everything, through dev's boundary", () => {
  it("is denied prod's jobs, any other secret, parameter or state key, other resources' tags, and instances of another stack", async () => {
    const denied = await outcomes([
      { action: "batch:SubmitJob", resource: arn("batch", `job-queue/${prod}-high-queue-1a2b3c4`), why: "prod's job queue" },
      { action: "batch:SubmitJob", resource: arn("batch", `job-definition/${prod}-process-jd-1a2b3c4:1`), why: "prod's job definition" },
      { action: "batch:SubmitJob", resource: arn("batch", "job-queue/another-teams-queue"), why: "another team's queue" },
      { action: "batch:TagResource", resource: arn("batch", "job/0123abcd-0123-4567-89ab-0123456789ab"), context: tag("RequestTag", prod), why: "tagging a job as prod's" },
      { action: "batch:TerminateJob", resource: arn("batch", "job/0123abcd-0123-4567-89ab-0123456789ab"), context: {}, why: "an untagged job" },
      { action: "batch:TerminateJob", resource: arn("batch", "job/0123abcd-0123-4567-89ab-0123456789ab"), context: tag("ResourceTag", prod), why: "prod's job" },
      { action: "batch:CancelJob", resource: arn("batch", "job/0123abcd-0123-4567-89ab-0123456789ab"), context: tag("ResourceTag", dev), why: "no role cancels" },
      { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", "secret:prod/db-password-AbC123"), why: "a secret its config does not name" },
      { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", `secret:${prod}/db-AbC123`), why: "prod's secret" },
      { action: "ssm:GetParameters", resource: arn("ssm", "parameter/prod/db-password"), why: "a parameter its config does not name" },
      { action: "ssm:GetParameter", resource: NAMED_PARAMETER, why: "only GetParameters, what ECS calls" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "prod"), why: "prod's Pulumi secrets key" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "prod"), context: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` }, why: "prod's Pulumi secrets key, even through Secrets Manager" },
      { action: "kms:Decrypt", resource: secretsKeyOf(params, "dev"), context: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` }, why: "dev's own Pulumi secrets key (the state's secrets)" },
      { action: "kms:Decrypt", resource: arn("kms", "key/9999abcd-99ab-99cd-99ef-999999999999"), why: "any key, directly" },
      { action: "ec2:CreateTags", resource: arn("ec2", "security-group/sg-0fedcba9876543210"), context: tag("RequestTag", dev), why: "another team's group (not a create)" },
      { action: "ec2:CreateTags", resource: arn("ec2", "instance/i-0fedcba9876543210"), context: { "ec2:CreateAction": "RunInstances", ...tag("RequestTag", prod) }, why: "an instance launched with prod's tag" },
      { action: "ec2:RunInstances", resource: arn("ec2", "instance/*"), context: profile(prod), why: "an instance with prod's instance profile" },
      { action: "ec2:RunInstances", resource: arn("ec2", "instance/*"), why: "an instance without the stack's profile" },
      { action: "ec2:RunInstances", resource: arn("ec2", "security-group/sg-0fedcba9876543210"), context: tag("ResourceTag", prod), why: "into prod's security group" },
      { action: "ec2:TerminateInstances", resource: arn("ec2", "instance/i-0fedcba9876543210"), context: profile(prod), why: "prod's instance" },
      { action: "elasticloadbalancing:RegisterTargets", resource: arn("elasticloadbalancing", "targetgroup/someone/0123456789abcdef"), why: "load balancers: no role of the pipeline has any" },
      { action: "ecs:RegisterContainerInstance", resource: cluster(prod), why: "prod's ECS cluster" },
      { action: "logs:PutLogEvents", resource: arn("logs", `log-group:/aws/batch/${prod}-process:log-stream:x`), why: "prod's job logs" },
      { action: "logs:CreateLogGroup", resource: arn("logs", "log-group:/anything"), why: "any log group" },
      { action: "ecr:BatchGetImage", resource: arn("ecr", `repository/${prod}-orchestrator-repo-1a2b3c4`), why: "prod's images" },
      { action: "elasticfilesystem:ClientMount", resource: arn("elasticfilesystem", "file-system/fs-0fedcba9876543210"), why: "a file system its config does not name" },
      { action: "s3:GetObject", resource: `arn:aws:s3:::${prod}-input-1a2b3c4/incoming/data.csv`, why: "prod's data" },
      { action: "sqs:ReceiveMessage", resource: arn("sqs", `${prod}-trigger-queue-1a2b3c4`), why: "prod's trigger queue (trigger.delivery: queue)" },
    ]);
    expect(denied.filter((o) => !/: (ImplicitlyDenied|ExplicitlyDenied)$/.test(o))).toEqual([]);
  });

  it("still denies IAM writes, role assumption, passing roles to other services and resource-policy writes when --boundary-allow names them (explicit Denies)", async () => {
    const loose = stackRoles({ ...params, boundaryExtraActions: ["iam:CreateRole", "iam:PutRolePolicy", "sts:AssumeRole", "s3:PutBucketPolicy", "logs:PutResourcePolicy"] }, "dev").boundary;
    const requests: AwsRequest[] = [
      { action: "iam:CreateRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/${dev}-backdoor`, why: "an identity" },
      { action: "iam:PutRolePolicy", resource: `arn:aws:iam::${ACCOUNT_ID}:role/${dev}-process-role-1a2b3c4`, why: "widening a role" },
      { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/${dev}-process-role-1a2b3c4`, context: { "iam:PassedToService": "lambda.amazonaws.com" }, why: "running code as its roles elsewhere" },
      { action: "sts:AssumeRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/admin`, why: "becoming another role" },
      { action: "s3:PutBucketPolicy", resource: `arn:aws:s3:::${dev}-input-1a2b3c4`, why: "opening the data" },
      { action: "logs:PutResourcePolicy", resource: "*", why: "a log resource policy" },
    ];
    const results = await Promise.all(
      requests.map(async (request) => {
        const result = await simulate(`arn:aws:iam::${ACCOUNT_ID}:role/${dev}-backdoor`, ACCOUNT_ID, { everything } as never, request, undefined, loose as never);
        return `${request.action} (${request.why}): ${result.result}`;
      }),
    );
    expect(results.filter((o) => !o.endsWith(": ExplicitlyDenied"))).toEqual([]);
    // Passing its instance roles to EC2 (Spot Fleet hands instances their profile) stays allowed.
    expect(await through({ action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/${dev}-spot-instance-role-1a2b3c4`, context: { "iam:PassedToService": "ec2.amazonaws.com" }, why: "Spot Fleet" })).toMatch(/: Allowed$/);
  });

  it("may still do what its own roles and AWS's managed policies of its instance and Spot Fleet roles call, on its own resources", async () => {
    const allowed = await outcomes([
      { action: "batch:SubmitJob", resource: arn("batch", `job-queue/${dev}-high-queue-1a2b3c4`), why: "its queue" },
      { action: "batch:SubmitJob", resource: arn("batch", `job-definition/${dev}-process-jd-1a2b3c4:3`), why: "its definition" },
      { action: "batch:SubmitJob", resource: arn("batch", "job/*"), why: "the job it creates" },
      { action: "batch:TagResource", resource: arn("batch", "job/*"), context: tag("RequestTag", dev), why: "tag on submit" },
      { action: "batch:TerminateJob", resource: arn("batch", "job/0123abcd-0123-4567-89ab-0123456789ab"), context: tag("ResourceTag", dev), why: "its own job" },
      { action: "batch:TerminateJob", resource: arn("batch", "job/0123abcd-0123-4567-89ab-0123456789ab:42"), why: "an array child (Batch never tags them)" },
      { action: "secretsmanager:GetSecretValue", resource: NAMED_SECRET, why: "a secret its config names" },
      { action: "ssm:GetParameters", resource: NAMED_PARAMETER, why: "a parameter its config names" },
      { action: "secretsmanager:GetSecretValue", resource: arn("secretsmanager", `secret:${dev}/db-AbC123`), why: "a secret under its prefix" },
      { action: "kms:Decrypt", resource: arn("kms", "key/9999abcd-99ab-99cd-99ef-999999999999"), context: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` }, why: "a secret's customer managed key" },
      { action: "ec2:RunInstances", resource: arn("ec2", "instance/*"), context: profile(dev), why: "Spot Fleet launches its instance" },
      { action: "ec2:RunInstances", resource: arn("ec2", "security-group/sg-0123456789abcdef0"), context: tag("ResourceTag", dev), why: "in its security group" },
      { action: "ec2:RunInstances", resource: arn("ec2", "subnet/subnet-0123456789abcdef0"), why: "in a subnet of the network" },
      { action: "ec2:CreateTags", resource: arn("ec2", "instance/i-0123456789abcdef0"), context: { "ec2:CreateAction": "RunInstances", ...tag("RequestTag", dev) }, why: "the launch template's tags" },
      { action: "ec2:TerminateInstances", resource: arn("ec2", "instance/i-0123456789abcdef0"), context: profile(dev), why: "Spot Fleet ends its instance" },
      { action: "ecs:RegisterContainerInstance", resource: cluster(dev), why: "the ECS agent joins Batch's cluster" },
      { action: "ecs:SubmitTaskStateChange", resource: cluster(dev), why: "the ECS agent" },
      { action: "ecs:Poll", resource: arn("ecs", `container-instance/${dev}-spot-ce-1a2b3c4_Batch_0f1e2d3c/0123456789abcdef`), why: "the ECS agent" },
      { action: "ecs:DiscoverPollEndpoint", resource: "*", why: "the ECS agent" },
      { action: "logs:PutLogEvents", resource: arn("logs", `log-group:/aws/batch/${dev}-process:log-stream:x`), why: "its job logs (awslogs on EC2)" },
      { action: "ecr:BatchGetImage", resource: arn("ecr", `repository/${dev}-orchestrator-repo-1a2b3c4`), why: "its images" },
    ]);
    expect(allowed.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
  });
});

describe("what a stack's config names, as render.ts reads it for the boundary", () => {
  it("takes the secrets, parameters, EFS file systems and private ECR repositories of Pulumi.<stack>.yaml", () => {
    const dir = mkdtempSync(join(tmpdir(), "boundary-"));
    writeFileSync(join(dir, "Pulumi.yaml"), "name: batch-pipeline\nruntime: nodejs\n");
    writeFileSync(
      join(dir, "Pulumi.dev.yaml"),
      [
        "config:",
        "  batch-pipeline:jobDefinitions:",
        "    stats:",
        `      image: ${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/team/stats:1.2`,
        "      secrets:",
        `        - { name: A, valueFrom: "${NAMED_SECRET}:key::" }`,
        `        - { name: B, valueFrom: ${NAMED_PARAMETER} }`,
        "      volumes:",
        "        - { name: shared, efsVolumeConfiguration: { fileSystemId: fs-0123456789abcdef0 } }",
        "",
      ].join("\n"),
    );
    writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  aws:region: eu-west-1\n");
    expect(projectStackResources(dir)).toEqual({
      dev: { parameters: [NAMED_PARAMETER], secrets: [NAMED_SECRET], fileSystems: ["fs-0123456789abcdef0"], repositories: [arn("ecr", "repository/team/stats")] },
      prod: {},
    });
  });
});
