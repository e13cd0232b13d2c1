/**
 * The program under mocks with every setting whose 0 means "off" set to 0, and a suffix filter: the
 * values infra/pipeline.ts maps to components' optional args (undefined = off).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type MockedStack, ofType, oneOf, setupPulumiMocks, settle } from "../mocks";

let stack: MockedStack;

beforeAll(async () => {
  stack = await setupPulumiMocks({
    runnableTimeoutSeconds: 0,
    trigger: { maxConcurrency: 0, noncurrentVersionExpirationDays: 0, expireObjectsAfterDays: 0, suffix: ".csv" },
  });
  await import("../../index.js");
  await settle();
});

describe("settings turned off with 0", () => {
  it("given runnableTimeoutSeconds 0, queues cancel nothing stuck RUNNABLE", () => {
    const queues = ofType(stack, "aws:batch/jobQueue:JobQueue");
    expect(queues.length).toBeGreaterThan(0);
    for (const q of queues) expect(q.inputs.jobStateTimeLimitActions ?? []).toEqual([]);
  });

  it("given trigger.maxConcurrency 0, the Lambda reserves no concurrency", () => {
    expect(oneOf(stack, "aws:lambda/function:Function", "-trigger-fn").inputs.reservedConcurrentExecutions).toBeUndefined();
  });

  it("given no expirations, the bucket keeps old versions and objects (only stale uploads are aborted)", () => {
    const rules = oneOf(stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-input-lifecycle").inputs.rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(["abort-incomplete-uploads"]);
  });

  it("given trigger.suffix, filters the notification on it", () => {
    const notification = oneOf(stack, "aws:s3/bucketNotification:BucketNotification", "-trigger-notification");
    expect(notification.inputs.lambdaFunctions[0]).toMatchObject({ filterPrefix: "incoming/", filterSuffix: ".csv" });
  });
});
