/**
 * The program under mocks with job definitions that use what real workloads need: a definition built
 * from a folder, secrets, an EFS volume with an access point and IAM authorization, shared memory,
 * ulimits, a user, GPUs, retryOn and extra policy statements. What it renders is checked against the
 * Batch API's own model (the SDK's serializer keeps only members the model defines), and every role it
 * creates is checked against AWS's authorization data and simulated: each definition has its own role,
 * the execution role reads exactly the secrets named, and what one definition is granted the other is not.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { BatchClient, RegisterJobDefinitionCommand } from "@aws-sdk/client-batch";
import { beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT_ID, type MockedStack, oneOf, REGION, type RecordedResource, setupPulumiMocks, settle } from "../mocks";
import { type AwsRequest, type PolicyDocument, simulate, unknownToAws } from "../support/iam";

const SSM = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter/app/db-password`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:app/api-key-AbC123`;
const FS = "fs-0123456789abcdef0";
const AP = "fsap-0123456789abcdef0";
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/results`;

let stack: MockedStack;

beforeAll(async () => {
  stack = await setupPulumiMocks({
    compute: { spot: { instanceTypes: ["g5", "c7i"] }, onDemand: { instanceTypes: ["g5"] } },
    jobDefinitions: {
      stats: {
        build: { context: "examples/csv-stats" },
        command: ["node", "stats.mjs", "Ref::mode"],
        parameters: { mode: "fast" },
        gpus: 1,
        environment: { LOG_LEVEL: "info" },
        secrets: [
          { name: "DB_PASSWORD", valueFrom: SSM },
          { name: "API_KEY", valueFrom: `${SECRET}:key::` },
        ],
        volumes: [
          { name: "scratch", host: { sourcePath: "/mnt/scratch" } },
          { name: "shared", efsVolumeConfiguration: { fileSystemId: FS, transitEncryption: "ENABLED", authorizationConfig: { accessPointId: AP, iam: "ENABLED" } } },
        ],
        mountPoints: [
          { sourceVolume: "scratch", containerPath: "/scratch" },
          { sourceVolume: "shared", containerPath: "/shared", readOnly: true },
        ],
        sharedMemoryMiB: 1024,
        ulimits: [{ name: "nofile", softLimit: 65_536, hardLimit: 65_536 }],
        user: "1000:1000",
        readonlyRootFilesystem: true,
        retryOn: { exitCodes: [75] },
        policyStatements: [{ Action: ["dynamodb:PutItem"], Resource: [TABLE] }, { Sid: "ReadInputs", Action: ["s3:PutObject"], Resource: ["*"] }],
      },
      merge: { image: "public.ecr.aws/docker/library/node:22.12-slim", command: ["node", "merge.mjs"] },
      statsAgain: { build: { context: "examples/csv-stats" }, command: ["node", "stats.mjs"] },
    },
    workflow: { steps: [{ name: "stats", jobDefinition: "stats", width: { perChunkBytes: 1_000_000 } }, { name: "merge", jobDefinition: "merge", dependsOn: ["stats"] }] },
  });
  await import("../../index.js");
  await settle();
});

const bucketArn = () => oneOf(stack, "aws:s3/bucket:Bucket", "-input").state.arn as string;
const definition = (key: string) => oneOf(stack, "aws:batch/jobDefinition:JobDefinition", `-${key}-jd`);
const props = (key: string) => JSON.parse(definition(key).inputs.containerProperties);
const role = (suffix: string) => oneOf(stack, "aws:iam/role:Role", suffix);
function policiesOf(r: RecordedResource): Record<string, PolicyDocument> {
  const policies = stack.resources.filter((p) => p.type === "aws:iam/rolePolicy:RolePolicy" && p.inputs.role === r.state.name);
  return Object.fromEntries(policies.map((p) => [p.name, JSON.parse(p.inputs.policy) as PolicyDocument]));
}
async function outcome(r: RecordedResource, request: AwsRequest): Promise<string> {
  const result = await simulate(`arn:aws:sts::${ACCOUNT_ID}:assumed-role/${r.state.name}/session`, ACCOUNT_ID, policiesOf(r), request);
  if (result.ignoredContextKeys.length > 0) return `ignored ${result.ignoredContextKeys.join(", ")}`;
  return result.result === "error" ? `error: ${result.errors}` : String(result.result);
}

describe("a job definition with the container properties real jobs use", () => {
  it("renders exactly Batch's ContainerProperties: the SDK's serializer, which keeps only members the API model defines, drops nothing", async () => {
    const rendered = props("stats");
    let body = "";
    const server = createServer((req, res) => {
      req.on("data", (c) => (body += c));
      req.on("end", () => res.setHeader("content-type", "application/json").end(JSON.stringify({ jobDefinitionName: "x", jobDefinitionArn: "arn:x", revision: 1 })));
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    try {
      const client = new BatchClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
      await client.send(new RegisterJobDefinitionCommand({ jobDefinitionName: "stats", type: "container", containerProperties: rendered }));
    } finally {
      server.close();
    }
    expect(JSON.parse(body).containerProperties).toEqual(rendered);
  });

  it("carries every field as Batch documents it", () => {
    const p = props("stats");
    expect(p.image).toMatch(new RegExp(`^${ACCOUNT_ID}\\.dkr\\.ecr\\.${REGION}\\.amazonaws\\.com/.+@sha256:[0-9a-f]{64}$`));
    expect(p.command).toEqual(["node", "stats.mjs", "Ref::mode"]);
    expect(p.resourceRequirements).toEqual([{ type: "VCPU", value: "1" }, { type: "MEMORY", value: "2048" }, { type: "GPU", value: "1" }]);
    expect(p.secrets).toEqual([{ name: "DB_PASSWORD", valueFrom: SSM }, { name: "API_KEY", valueFrom: `${SECRET}:key::` }]);
    expect(p.volumes[1]).toEqual({ name: "shared", efsVolumeConfiguration: { fileSystemId: FS, transitEncryption: "ENABLED", authorizationConfig: { accessPointId: AP, iam: "ENABLED" } } });
    expect(p.mountPoints).toEqual([{ sourceVolume: "scratch", containerPath: "/scratch" }, { sourceVolume: "shared", containerPath: "/shared", readOnly: true }]);
    expect(p.linuxParameters).toEqual({ sharedMemorySize: 1024 });
    expect(p.ulimits).toEqual([{ name: "nofile", softLimit: 65_536, hardLimit: 65_536 }]);
    expect(p).toMatchObject({ user: "1000:1000", readonlyRootFilesystem: true, executionRoleArn: role("-stats-exec-role").state.arn, jobRoleArn: role("-stats-role").state.arn });
    expect(definition("stats").inputs.parameters).toEqual({ mode: "fast" });
    expect(definition("stats").inputs.retryStrategy.evaluateOnExits).toEqual([
      { action: "RETRY", onStatusReason: "Host EC2*" },
      { action: "RETRY", onStatusReason: "Your Spot Task was interrupted*" },
      { action: "RETRY", onExitCode: "75" },
      { action: "EXIT", onReason: "*" },
    ]);
  });

  it("builds a definition's image from its folder into its own repository, once per folder", () => {
    const images = stack.resources.filter((r) => r.type === "awsx:ecr:Image" && /-csv-stats-[0-9a-f]{6}-image$/.test(r.name));
    expect(images).toHaveLength(1);
    const image = images[0]!;
    expect(image.inputs.context).toMatch(/examples\/csv-stats$/);
    expect(image.inputs.dockerfile).toMatch(/examples\/csv-stats\/Dockerfile$/);
    expect(image.inputs.imageTag).toMatch(/^[0-9a-f]{16}$/);
    expect(oneOf(stack, "aws:ecr/repository:Repository", image.name.replace(/-image$/, "-repo")).inputs.imageTagMutability).toBe("IMMUTABLE");
    // The second definition built from the same folder uses the same image.
    expect(props("statsAgain").image).toBe(props("stats").image);
  });

  it("a definition without secrets on EC2 gets no execution role", () => {
    expect(props("merge").executionRoleArn).toBeUndefined();
    expect(stack.resources.filter((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-merge-exec-role"))).toEqual([]);
  });
});

describe("the roles of real workloads, against AWS's authorization data", () => {
  const roles = ["-stats-role", "-merge-role", "-stats-exec-role"];

  it("renders a statement's Sid after its index, so none can clash with the pipeline's own (IAM refuses duplicates)", () => {
    const sids = Object.values(policiesOf(role("-stats-role"))).flatMap((d) => d.Statement.map((st) => st.Sid));
    expect(sids).toEqual(["ReadInputs", "WriteResults", "ListOwnPrefixes", "MountEfs1", "Config0", "Config1ReadInputs", "NeverWriteInputs"]);
  });

  it("names only actions, resource types and condition keys AWS defines", async () => {
    for (const suffix of roles) {
      const statements = Object.values(policiesOf(role(suffix))).flatMap((d) => d.Statement);
      expect(await unknownToAws(statements), suffix).toEqual([]);
    }
  });

  it.each<[string, AwsRequest, string]>([
    ["-stats-exec-role", { action: "ssm:GetParameters", resource: SSM, why: "ECS reads the secret parameter" }, "Allowed"],
    ["-stats-exec-role", { action: "secretsmanager:GetSecretValue", resource: SECRET, why: "ECS reads the secret" }, "Allowed"],
    ["-stats-exec-role", { action: "ssm:GetParameters", resource: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter/app/other`, why: "another parameter" }, "ImplicitlyDenied"],
    ["-stats-exec-role", { action: "secretsmanager:GetSecretValue", resource: SECRET.replace("api-key-AbC123", "api-key-admin-XyZ789"), why: "another secret sharing the name's start" }, "ImplicitlyDenied"],
    ["-stats-exec-role", { action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:prod/db-XyZ789`, why: "another secret" }, "ImplicitlyDenied"],
    ["-stats-role", { action: "dynamodb:PutItem", resource: TABLE, why: "its policyStatements" }, "Allowed"],
    ["-stats-role", { action: "dynamodb:PutItem", resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/other`, why: "another table" }, "ImplicitlyDenied"],
    ["-stats-role", { action: "dynamodb:DeleteItem", resource: TABLE, why: "an action not listed" }, "ImplicitlyDenied"],
    ["-merge-role", { action: "dynamodb:PutItem", resource: TABLE, why: "another definition's grant" }, "ImplicitlyDenied"],
    ["-stats-role", { action: "elasticfilesystem:ClientMount", resource: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:file-system/${FS}`, context: { "elasticfilesystem:AccessPointArn": `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:access-point/${AP}` }, why: "mounting through the access point" }, "Allowed"],
    ["-stats-role", { action: "elasticfilesystem:ClientMount", resource: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:file-system/${FS}`, context: { "elasticfilesystem:AccessPointArn": `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:access-point/fsap-0000000000000000f` }, why: "another access point" }, "ImplicitlyDenied"],
    ["-stats-role", { action: "elasticfilesystem:ClientWrite", resource: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:file-system/${FS}`, context: { "elasticfilesystem:AccessPointArn": `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:access-point/${AP}` }, why: "writing a read-only mount" }, "ImplicitlyDenied"],
    ["-merge-role", { action: "elasticfilesystem:ClientMount", resource: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:file-system/${FS}`, context: { "elasticfilesystem:AccessPointArn": `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT_ID}:access-point/${AP}` }, why: "a definition without the volume" }, "ImplicitlyDenied"],
    ["-stats-role", { action: "s3:PutObject", resource: "arn:aws:s3:::elsewhere/x", why: "its policyStatements (s3:PutObject on *)" }, "Allowed"],
    ["-stats-role", { action: "s3:PutObject", resource: "BUCKET/incoming/loop.csv", why: "writing under the trigger prefix, whatever policyStatements allow" }, "ExplicitlyDenied"],
    ["-merge-role", { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/anything`, why: "escalation" }, "ImplicitlyDenied"],
  ])("%s: %j → %s", async (suffix, request, expected) => {
    // The bucket's ARN is known once the stack is up; rows name it BUCKET.
    expect(await outcome(role(suffix), { ...request, resource: request.resource.replace("BUCKET", bucketArn()) })).toBe(expected);
  });
});
