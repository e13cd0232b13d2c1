/**
 * The permissions boundary (deploy/policies.ts) against the roles of a stack with every workload feature: a
 * GPU definition built from a folder with secrets (SSM and Secrets Manager), an EFS volume with IAM
 * authorization and `policyStatements`, on EC2 with a BEST_FIT Spot fleet. Every statement the pipeline renders
 * into its roles passes through the stack's boundary; a `policyStatements` grant passes because render.ts reads it
 * from the config into the boundary, on its own resources only, and nothing reaches another stack's data.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { boundaryArnOf, type PolicyDocument, stackRoles } from "../../deploy/policies";
import { configResources, EXAMPLE } from "../../deploy/render";
import { resourcePrefix } from "../../stack/naming";
import { ACCOUNT_ID, type MockedStack, PROJECT, REGION, setupPulumiMocks, settle } from "../mocks";
import { type AwsRequest, simulate } from "../support/iam";
import { renderedStatementRequests } from "./boundaryRequests";

const SSM = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter/app/db-password`;
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:app/api-key-AbC123`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/results`;
const params = { ...EXAMPLE, accountId: ACCOUNT_ID };
const config = {
  permissionsBoundaryArn: boundaryArnOf(params, "dev"),
  compute: { spot: { instanceTypes: ["g5", "c7i"], allocationStrategy: "BEST_FIT" }, onDemand: { instanceTypes: ["g5"] } },
  jobDefinitions: {
    stats: {
      build: { context: "examples/csv-stats" },
      command: ["node", "stats.mjs"],
      gpus: 1,
      secrets: [
        { name: "DB_PASSWORD", valueFrom: SSM },
        { name: "API_KEY", valueFrom: `${SECRET}:key::` },
      ],
      volumes: [{ name: "shared", efsVolumeConfiguration: { fileSystemId: "fs-0123456789abcdef0", transitEncryption: "ENABLED", authorizationConfig: { accessPointId: "fsap-0123456789abcdef0", iam: "ENABLED" } } }],
      mountPoints: [{ sourceVolume: "shared", containerPath: "/shared", readOnly: true }],
      policyStatements: [{ Action: ["dynamodb:PutItem"], Resource: [TABLE] }],
    },
    merge: { image: "public.ecr.aws/docker/library/node:22.12-slim", command: ["node", "merge.mjs"] },
  },
  workflow: { steps: [{ name: "stats", jobDefinition: "stats", width: { fixed: 4 } }, { name: "merge", jobDefinition: "merge", dependsOn: ["stats"] }] },
};
/** dev's boundary as render.ts writes it from this config: its secrets, file system and policyStatements. */
const resources = configResources(config);
const boundary = stackRoles({ ...params, stackResources: { dev: resources } }, "dev").boundary;
/** The same boundary rendered without the policyStatements (a config read before they were added). */
const { jobStatements: _dropped, ...withoutStatements } = resources;
const plain = stackRoles({ ...params, stackResources: { dev: withoutStatements } }, "dev").boundary;
let stack: MockedStack;

beforeAll(async () => {
  stack = await setupPulumiMocks(config, { stack: "dev" });
  await import("../../index.js");
  await settle();
});

const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
async function through(limit: PolicyDocument, identity: PolicyDocument, request: AwsRequest): Promise<string> {
  const result = await simulate(role(`${resourcePrefix(PROJECT, "dev")}-stats-role-1a2b3c4`), ACCOUNT_ID, { identity } as never, request, undefined, limit as never);
  return `${request.action} on ${request.resource} (${request.why}): ${result.result}${result.errors ? ` ${result.errors}` : ""}`;
}

describe("the permissions boundary, against a stack with secrets, EFS, policyStatements and a Spot fleet", () => {
  it("is on every role, the Spot Fleet role included", () => {
    const roles = stack.resources.filter((r) => r.type === "aws:iam/role:Role");
    expect(roles.some((r) => r.name.endsWith("-spot-fleet-role"))).toBe(true);
    for (const r of roles) expect(r.inputs.permissionsBoundary, r.name).toBe(boundaryArnOf(params, "dev"));
  });

  it("allows every statement the pipeline renders into its roles, policyStatements included once rendered with their actions", async () => {
    const requests = renderedStatementRequests(stack);
    const whys = requests.map((r) => r.request.why).join("\n");
    for (const sid of ["ReadSecrets", "MountEfs", "Config0"]) expect(whys, sid).toMatch(new RegExp(`${sid}`));
    const outcomes = await Promise.all(requests.map(({ identity, request }) => through(boundary, identity, request)));
    expect(outcomes.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
  });

  it("allows a policyStatements grant on its own resources only, stops it when rendered without the config's statements, and never lets a role reach another stack's data", async () => {
    expect(resources.jobStatements).toEqual([{ Action: ["dynamodb:PutItem"], Resource: [TABLE] }]);
    const put = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["dynamodb:PutItem", "s3:GetObject"], Resource: ["*"] }] } as unknown as PolicyDocument;
    expect(await through(boundary, put, { action: "dynamodb:PutItem", resource: TABLE, why: "the statement's own table" })).toMatch(/: Allowed$/);
    expect(await through(boundary, put, { action: "dynamodb:PutItem", resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/another-teams`, why: "another table" })).toMatch(/Denied$/);
    expect(await through(plain, put, { action: "dynamodb:PutItem", resource: TABLE, why: "rendered before the statement was added" })).toMatch(/Denied$/);
    const prodInput = `arn:aws:s3:::${resourcePrefix(PROJECT, "prod")}-input-1a2b3c4/incoming/data.csv`;
    expect(await through(boundary, put, { action: "s3:GetObject", resource: prodInput, why: "prod's data" })).toMatch(/Denied$/);
  });
});
