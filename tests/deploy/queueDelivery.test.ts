/**
 * The deploy role and the permissions boundary (deploy/policies.ts) against the production example deployed with
 * `trigger.delivery: queue` (tests/support/stacks.ts QUEUE_STACK): prod's deploy role may create, change and delete
 * the trigger's queue, its queue policy and the event source mapping, scoped to its stack's names (a mapping by the
 * function it invokes, `lambda:FunctionArn`), and the boundary lets the trigger's role poll its own queue only.
 * Simulated against AWS's authorization data (@cloud-copilot/iam-simulate), as roles.test.ts does for the default.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { PolicyDocument } from "../../deploy/policies";
import { ACCOUNT_ID, type MockedStack, PROJECT } from "../mocks";
import { deployUnderMocks } from "../support/program";
import { type AwsRequest, simulate } from "../support/iam";
import { prodStack, QUEUE_STACK } from "../support/stacks";
import { renderedStatementRequests } from "./boundaryRequests";
import { createCalls, queueArnOfUrl } from "./createCalls";
import { arn, BOUNDARY, dev, devRoles, PRINCIPAL, prod, prodRoles } from "./prodAccount";

let stack: MockedStack;

beforeAll(async () => {
  const config = prodStack();
  stack = await deployUnderMocks({ ...config, trigger: { ...(config.trigger as object), ...QUEUE_STACK.trigger }, permissionsBoundaryArn: BOUNDARY }, { stack: "prod" });
});

const outcome = async (policies: Record<string, PolicyDocument>, request: AwsRequest, boundary?: PolicyDocument) => {
  const result = await simulate(PRINCIPAL, ACCOUNT_ID, policies as never, request, undefined, boundary as never);
  return `${request.action} on ${request.resource} (${request.why}): ${result.result}${result.errors ? ` ${result.errors}` : ""}${result.ignoredContextKeys.length ? ` ignoring ${result.ignoredContextKeys.join(", ")}` : ""}`;
};
const notAllowed = async (policies: Record<string, PolicyDocument>, requests: AwsRequest[]) => (await Promise.all(requests.map((r) => outcome(policies, r)))).filter((o) => !o.endsWith(": Allowed"));
const notDenied = async (policies: Record<string, PolicyDocument>, requests: AwsRequest[]) => (await Promise.all(requests.map((r) => outcome(policies, r)))).filter((o) => !/: (ImplicitlyDenied|ExplicitlyDenied)$/.test(o));

const one = (type: string, suffix: string) => {
  const found = stack.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one ${type} *${suffix}, found ${found.length}`);
  return found[0]!;
};
const mapping = () => one("aws:lambda/eventSourceMapping:EventSourceMapping", "-trigger-queue-mapping");
const fnArn = () => one("aws:lambda/function:Function", "-trigger-fn").state.arn as string;

describe("prod's deploy role, with the trigger's queue delivery", () => {
  it("may create every resource of the stack, the queue, its policy and the event source mapping included, on its own ARN", async () => {
    const CREATE = createCalls(BOUNDARY);
    const resources = stack.resources.filter((r) => !r.type.startsWith(`${PROJECT}:`));
    const types = new Set(resources.map((r) => r.type));
    for (const type of ["aws:sqs/queuePolicy:QueuePolicy", "aws:lambda/eventSourceMapping:EventSourceMapping"]) expect(types).toContain(type);
    expect([...types].filter((t) => !(t in CREATE))).toEqual([]);
    expect(await notAllowed(prodRoles.deployPolicies, resources.map((r) => CREATE[r.type]!(r)))).toEqual([]);
  });

  it("may read, update, tag and delete the stack's own mapping and queue (a mapping by the function it invokes)", async () => {
    const own = { "lambda:FunctionArn": fnArn() };
    const queue = queueArnOfUrl(one("aws:sqs/queuePolicy:QueuePolicy", "-trigger-queue-policy").inputs.queueUrl);
    expect(
      await notAllowed(prodRoles.deployPolicies, [
        ...["GetEventSourceMapping", "UpdateEventSourceMapping", "DeleteEventSourceMapping"].map((a) => ({ action: `lambda:${a}`, resource: mapping().state.arn, context: own, why: "pulumi up / destroy" })),
        { action: "lambda:ListTags", resource: mapping().state.arn, why: "the provider reads its tags" },
        { action: "lambda:TagResource", resource: mapping().state.arn, context: { "aws:RequestTag/environment": "prod", "aws:TagKeys": ["environment"] }, why: "a config tag changed" },
        { action: "sqs:SetQueueAttributes", resource: queue, why: "the visibility timeout, redrive policy or queue policy changed" },
        { action: "sqs:DeleteQueue", resource: queue, why: "back to trigger.delivery: async" },
      ]),
    ).toEqual([]);
  });

  it("may not create, change or delete a mapping of another stack's or team's function, nor touch another stack's queue", async () => {
    const other = (fn: string) => ({ "lambda:FunctionArn": arn("lambda", `function:${fn}`) });
    expect(
      await notDenied(prodRoles.deployPolicies, [
        { action: "lambda:CreateEventSourceMapping", resource: "*", context: other("someone-elses-function"), why: "feeding a queue to another team's function" },
        { action: "lambda:CreateEventSourceMapping", resource: "*", context: other(`${dev}-trigger-fn-1a2b3c4`), why: "dev's function" },
        { action: "lambda:UpdateEventSourceMapping", resource: arn("lambda", "event-source-mapping:0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"), context: other("someone-elses-function"), why: "another team's mapping" },
        { action: "lambda:DeleteEventSourceMapping", resource: arn("lambda", "event-source-mapping:0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"), context: other(`${dev}-trigger-fn-1a2b3c4`), why: "dev's mapping" },
        { action: "sqs:SetQueueAttributes", resource: arn("sqs", `${dev}-trigger-queue-1a2b3c4`), why: "dev's queue policy" },
        { action: "sqs:CreateQueue", resource: arn("sqs", "someone-elses-queue"), why: "unprefixed" },
      ]),
    ).toEqual([]);
    // dev's deploy role, in turn, cannot touch prod's mapping.
    expect(await notDenied(devRoles.deployPolicies, [{ action: "lambda:DeleteEventSourceMapping", resource: mapping().state.arn, context: { "lambda:FunctionArn": fnArn() }, why: "prod's mapping" }])).toEqual([]);
  });
});

describe("prod's permissions boundary, with the trigger's queue delivery", () => {
  const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/${prod}-trigger-role-1a2b3c4`;
  const through = async (identity: PolicyDocument, request: AwsRequest) => {
    const result = await simulate(roleArn, ACCOUNT_ID, { identity } as never, request, undefined, prodRoles.boundary as never);
    return `${request.action} on ${request.resource} (${request.why}): ${result.result}${result.errors ? ` ${result.errors}` : ""}`;
  };

  it("allows every statement the stack renders into its roles, the trigger's polling of its queue included", async () => {
    const requests = renderedStatementRequests(stack);
    expect(requests.map((r) => r.request.why)).toContain(`${prod}-trigger-policy PollQueue`);
    const outcomes = await Promise.all(requests.map(({ identity, request }) => through(identity, request)));
    expect(outcomes.filter((o) => !o.endsWith(": Allowed"))).toEqual([]);
  });

  it("denies a role with an Allow of everything another stack's or team's queue", async () => {
    const everything = { Version: "2012-10-17", Statement: [{ Sid: "Everything", Effect: "Allow", Action: ["*"], Resource: ["*"] }] } as unknown as PolicyDocument;
    const requests: AwsRequest[] = [
      { action: "sqs:ReceiveMessage", resource: arn("sqs", `${dev}-trigger-queue-1a2b3c4`), why: "dev's queue" },
      { action: "sqs:DeleteMessage", resource: arn("sqs", "another-teams-queue"), why: "another team's queue" },
      { action: "sqs:SetQueueAttributes", resource: arn("sqs", `${prod}-trigger-queue-1a2b3c4`), why: "rewriting its own queue's policy" },
      { action: "lambda:CreateEventSourceMapping", resource: "*", context: { "lambda:FunctionArn": fnArn() }, why: "feeding another queue to the trigger" },
    ];
    const outcomes = await Promise.all(requests.map((r) => through(everything, r)));
    expect(outcomes.filter((o) => !/: (ImplicitlyDenied|ExplicitlyDenied)$/.test(o))).toEqual([]);
  });
});
