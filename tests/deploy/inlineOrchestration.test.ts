/**
 * The deploy role and the permissions boundary (deploy/policies.ts) against the production example deployed with
 * `orchestrator.mode: inline` (tests/support/stacks.ts INLINE_STACK): the trigger's role now submits the run's DAG
 * itself (the process queue and definitions, ListJobs, DescribeJobs, TerminateJob of the stack's jobs and array
 * children), grants the start job's role had already. The boundary is the stack's, not a role's, so it needs no
 * new grant: prod's deploy role may still create every resource, the boundary lets every statement of every role
 * through (the trigger's new ones included), and a trigger role with an Allow of everything stays inside prod.
 * Simulated against AWS's authorization data (@cloud-copilot/iam-simulate), as roles.test.ts does for the default.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MANAGED_POLICY_MAX_CHARS, type PolicyDocument, policyChars } from "../../deploy/policies";
import { ACCOUNT_ID, type MockedStack, PROJECT } from "../mocks";
import { deployUnderMocks } from "../support/program";
import { type AwsRequest, simulate } from "../support/iam";
import { INLINE_STACK, prodStack } from "../support/stacks";
import { renderedStatementRequests } from "./boundaryRequests";
import { createCalls } from "./createCalls";
import { arn, BOUNDARY, dev, PRINCIPAL, prod, prodRoles } from "./prodAccount";

let stack: MockedStack;

beforeAll(async () => {
  const config = prodStack();
  stack = await deployUnderMocks({ ...config, orchestrator: { ...(config.orchestrator as object), ...INLINE_STACK.orchestrator }, permissionsBoundaryArn: BOUNDARY }, { stack: "prod" });
});

const outcome = async (principal: string, policies: Record<string, PolicyDocument>, request: AwsRequest, boundary?: PolicyDocument) => {
  const result = await simulate(principal, ACCOUNT_ID, policies as never, request, undefined, boundary as never);
  return `${request.action} on ${request.resource} (${request.why}): ${result.result}${result.errors ? ` ${result.errors}` : ""}${result.ignoredContextKeys.length ? ` ignoring ${result.ignoredContextKeys.join(", ")}` : ""}`;
};

describe("prod's deploy role, with orchestrator.mode inline", () => {
  it("may still create every resource of the stack, the trigger's function, role and its policy included, on its own ARN", async () => {
    const CREATE = createCalls(BOUNDARY);
    const resources = stack.resources.filter((r) => !r.type.startsWith(`${PROJECT}:`));
    const types = new Set(resources.map((r) => r.type));
    expect([...types].filter((t) => !(t in CREATE))).toEqual([]);
    const trigger = resources.filter((r) => /-trigger-(fn|role|policy)$/.test(r.name));
    expect(trigger).toHaveLength(3);
    const outcomes = await Promise.all(resources.map((r) => outcome(PRINCIPAL, prodRoles.deployPolicies, CREATE[r.type]!(r))));
    expect(outcomes.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
  });
});

describe("prod's permissions boundary, with orchestrator.mode inline", () => {
  const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/${prod}-trigger-role-1a2b3c4`;
  const through = (identity: PolicyDocument, request: AwsRequest) => outcome(roleArn, { identity }, request, prodRoles.boundary);

  it("needs no new grant: it fits one managed policy as before", () => {
    expect(policyChars(prodRoles.boundary)).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
  });

  it("allows every statement the stack renders into its roles, the trigger's DAG grants included", async () => {
    const requests = renderedStatementRequests(stack);
    const trigger = requests.filter((r) => r.request.why.startsWith(`${prod}-trigger-policy `)).map((r) => r.request.why);
    for (const sid of ["SubmitToQueue", "TagOnSubmit", "ReadJobs", "TerminateOwnJobs", "TerminateArrayChildren"]) expect(trigger).toContain(`${prod}-trigger-policy ${sid}`);
    const outcomes = await Promise.all(requests.map(({ identity, request }) => through(identity, request)));
    expect(outcomes.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
  });

  it("keeps a trigger role with an Allow of everything inside prod: no dev or foreign queue, no other stack's jobs, no IAM", async () => {
    const everything = { Version: "2012-10-17", Statement: [{ Sid: "Everything", Effect: "Allow", Action: ["*"], Resource: ["*"] }] } as unknown as PolicyDocument;
    const devTags = { "aws:TagKeys": ["pipeline:stack"], "aws:RequestTag/pipeline:stack": dev };
    const requests: AwsRequest[] = [
      { action: "batch:SubmitJob", resource: arn("batch", `job-queue/${dev}-low-queue-1a2b3c4`), why: "dev's process queue" },
      { action: "batch:SubmitJob", resource: arn("batch", "job-queue/another-teams-queue"), why: "another team's queue" },
      { action: "batch:SubmitJob", resource: arn("batch", `job-definition/${dev}-process-jd-1a2b3c4:1`), why: "dev's job definition" },
      { action: "batch:TagResource", resource: arn("batch", "job/5f0c6d7e-1a2b-4c3d-9e8f-0123456789ab"), context: devTags, why: "tagging a job as dev's" },
      { action: "batch:TerminateJob", resource: arn("batch", "job/5f0c6d7e-1a2b-4c3d-9e8f-0123456789ab"), context: { "aws:ResourceTag/pipeline:stack": dev }, why: "dev's job" },
      { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT_ID}:role/${prod}-process-role-1a2b3c4`, context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" }, why: "passing a role to a job of its own" },
      { action: "batch:RegisterJobDefinition", resource: arn("batch", `job-definition/${prod}-forged`), why: "a definition of its own choosing" },
    ];
    const outcomes = await Promise.all(requests.map((r) => through(everything, r)));
    expect(outcomes.filter((o) => !/: (ImplicitlyDenied|ExplicitlyDenied)$/.test(o))).toEqual([]);
  });
});
