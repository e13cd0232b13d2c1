/** One-line errors from AWS SDK failures, and when colour is on. */
import { describe, expect, it } from "vitest";
import { colorEnabled } from "../../../cli/app/context";
import { awsCall, CLI_EXIT, describeAwsError, describeStackFileError } from "../../../cli/app/errors";
import { StackFileError } from "../../../stack/project";

const sdkError = (name: string, message: string, httpStatusCode?: number) => Object.assign(new Error(message), { name, $metadata: httpStatusCode ? { httpStatusCode } : {} });

describe("describeAwsError", () => {
  it.each([
    [Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }), CLI_EXIT.usage, "no usable AWS credentials for Batch ListJobs (CredentialsProviderError: Could not load credentials from any providers); set AWS_PROFILE, or run `aws sso login` / `aws configure`"],
    [sdkError("ExpiredTokenException", "The security token included in the request is expired", 400), CLI_EXIT.usage, "no usable AWS credentials for Batch ListJobs (ExpiredTokenException: The security token included in the request is expired); set AWS_PROFILE, or run `aws sso login` / `aws configure`"],
    [new Error("Region is missing"), CLI_EXIT.usage, "no AWS region for Batch ListJobs: set AWS_REGION, or aws:region in the stack's Pulumi.<stack>.yaml"],
    [sdkError("AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized to perform: batch:ListJobs", 403), CLI_EXIT.aws, "AWS denied Batch ListJobs: User: arn:aws:iam::1:user/x is not authorized to perform: batch:ListJobs (give your identity this permission, or use another AWS_PROFILE)"],
    [sdkError("TooManyRequestsException", "Too Many Requests", 429), CLI_EXIT.aws, "AWS throttled Batch ListJobs past the SDK's retries: Too Many Requests; try again in a minute"],
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" }), CLI_EXIT.aws, "cannot reach AWS for Batch ListJobs (ECONNREFUSED); check the network, AWS_REGION and AWS_ENDPOINT_URL"],
    [sdkError("ClientException", "Job queue q does not exist", 400), CLI_EXIT.aws, "Batch ListJobs failed: ClientException: Job queue q does not exist"],
  ])("given %s, says what failed and what to do", (error, exitCode, message) => {
    const described = describeAwsError(error, "Batch ListJobs");
    expect(described?.message).toBe(message);
    expect(described?.exitCode).toBe(exitCode);
  });

  it("given a plain bug, leaves it alone (it must crash with its stack)", async () => {
    expect(describeAwsError(new TypeError("x is undefined"), "Batch ListJobs")).toBeUndefined();
    await expect(awsCall("Batch ListJobs", async () => Promise.reject(new TypeError("x is undefined")))).rejects.toBeInstanceOf(TypeError);
  });
});

describe("describeStackFileError", () => {
  it("a usage error whose message escapes control characters: it names files a cloned repository may have put there", () => {
    const error = describeStackFileError(new StackFileError("no stack `x` (stacks here: dev, \u001b]0;owned\u0007evil)"));
    expect([error?.message, error?.exitCode]).toEqual(["no stack `x` (stacks here: dev, \\x1b]0;owned\\x07evil)", CLI_EXIT.usage]);
  });

  it("anything else is not its business", () => expect(describeStackFileError(new Error("other"))).toBeUndefined());
});

describe("colorEnabled (no-color.org)", () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: "1" }, false],
    [true, { NO_COLOR: "" }, true],
    [true, { TERM: "dumb" }, false],
    [false, { FORCE_COLOR: "1" }, true],
    [true, { FORCE_COLOR: "1", NO_COLOR: "1" }, false],
  ])("given isTTY %s and env %j: %s", (isTTY, env, expected) => {
    expect(colorEnabled(isTTY, env)).toBe(expected);
  });
});
