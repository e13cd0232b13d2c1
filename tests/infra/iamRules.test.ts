/**
 * The IAM checkers themselves, against statements whose verdict AWS's Service Authorization Reference
 * settles: if these pass, a green simulation of the stack means something.
 */
import { describe, expect, it } from "vitest";
import { simulate, unknownToAws, type PolicyStatementJson } from "../support/iam";

const Q = "arn:aws:batch:eu-west-1:123456789012:job-queue/q";
const JD = "arn:aws:batch:eu-west-1:123456789012:job-definition/d";
const JOB = "arn:aws:batch:eu-west-1:123456789012:job/5f0c6d7e-1a2b-4c3d-9e8f-0123456789ab";
const allow = (Action: string[], Resource: string[], Condition?: PolicyStatementJson["Condition"]): PolicyStatementJson => ({ Sid: "S", Effect: "Allow", Action, Resource, ...(Condition ? { Condition } : {}) });

describe("unknownToAws: what the Service Authorization Reference does not define", () => {
  it.each<[string, PolicyStatementJson, RegExp]>([
    // The bug this project shipped: Batch defines no batch:CreateAction (EC2 and ECS have one).
    ["a condition key Batch does not define", allow(["batch:TagResource"], [`${JD}:*`], { StringEquals: { "batch:CreateAction": "SubmitJob" } }), /batch:CreateAction is not a condition key/],
    ["an action that does not exist", allow(["batch:SubmitJobs"], [Q]), /action batch:SubmitJobs does not exist/],
    ["a resource type the action does not take (TagResource takes revisions only)", allow(["batch:TagResource"], [JD]), /none of batch:TagResource's resource types/],
    ["a resource on an action without resource-level permissions", allow(["batch:DescribeJobs"], [JOB]), /supports no resource-level permissions/],
    ["a bucket ARN for an object action", allow(["s3:GetObject"], ["arn:aws:s3:::b"]), /none of s3:GetObject's resource types/],
    ["a resource tag key on an action without resources", allow(["batch:DescribeJobs"], ["*"], { StringEquals: { "aws:ResourceTag/team": "x" } }), /aws:ResourceTag\/team is not a condition key/],
  ])("reports %s", async (_label, statement, message) => {
    const problems = await unknownToAws([statement]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it.each<[string, PolicyStatementJson]>([
    ["SubmitJob on queue, definition (with and without revision) and job", allow(["batch:SubmitJob"], [Q, JD, `${JD}:*`, "arn:aws:batch:eu-west-1:123456789012:job/*"])],
    ["TagResource bounded by aws:TagKeys", allow(["batch:TagResource"], [`${JD}:*`, Q], { "ForAllValues:StringEquals": { "aws:TagKeys": ["a"] } })],
    ["TerminateJob bounded by a resource tag", allow(["batch:TerminateJob"], ["arn:aws:batch:eu-west-1:123456789012:job/*"], { StringEquals: { "aws:ResourceTag/pipeline:stack": "s" } })],
    ["log streams under a log group", allow(["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*"])],
    ["ListBucket with s3:prefix", allow(["s3:ListBucket"], ["arn:aws:s3:::b"], { StringLike: { "s3:prefix": ["in/*"] } })],
    ["a broad Deny", { Effect: "Deny", Action: ["s3:*"], Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
  ])("accepts %s", async (_label, statement) => {
    expect(await unknownToAws([statement])).toEqual([]);
  });
});

describe("simulate: AWS's evaluation of the request the code makes", () => {
  const principal = "arn:aws:sts::123456789012:assumed-role/r/s";
  const tagged = { "aws:TagKeys": ["pipeline:run-id"], "aws:RequestTag/pipeline:run-id": "r" };

  it("denies tagging on submit under a condition on an undefined key (the key is never present, so the statement never applies)", async () => {
    const old = { Version: "2012-10-17", Statement: [allow(["batch:TagResource"], ["arn:aws:batch:eu-west-1:123456789012:job/*"], { StringEquals: { "batch:CreateAction": "SubmitJob" } })] };
    const outcome = await simulate(principal, "123456789012", { old }, { action: "batch:TagResource", resource: JOB, context: { ...tagged, "batch:CreateAction": "SubmitJob" }, why: "test" });
    expect(outcome.result).toBe("ImplicitlyDenied");
    expect(outcome.ignoredContextKeys).toEqual(["batch:CreateAction"]);
  });

  it("refuses a request on a resource type the action does not take", async () => {
    const any = { Version: "2012-10-17", Statement: [allow(["batch:TagResource"], ["*"])] };
    expect((await simulate(principal, "123456789012", { any }, { action: "batch:TagResource", resource: JD, why: "test" })).result).toBe("error");
  });

  it("applies ForAllValues on aws:TagKeys: every key sent must be listed", async () => {
    const p = { Version: "2012-10-17", Statement: [allow(["batch:TagResource"], [`${JD}:*`], { "ForAllValues:StringEquals": { "aws:TagKeys": ["pipeline:run-id"] } })] };
    const call = (context: Record<string, string | string[]>) => simulate(principal, "123456789012", { p }, { action: "batch:TagResource", resource: `${JD}:4`, context, why: "test" });
    expect((await call(tagged)).result).toBe("Allowed");
    expect((await call({ "aws:TagKeys": ["pipeline:run-id", "owner"] })).result).toBe("ImplicitlyDenied");
  });
});
