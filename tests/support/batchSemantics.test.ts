/**
 * Batch's documented behaviour (tests/support/batchSemantics.ts), each rule against the sentence of the API
 * reference it cites. The Batch model built on them: tests/support/batchModel.test.ts.
 */
import { describe, expect, it } from "vitest";
import { isAmbiguousSubmitFailure, isClientError, isThrottlingError } from "../../batch/calls";
import {
  arrayParentStatus,
  batchClientError,
  cancellable,
  DESCRIBE_JOBS_MAX,
  jobDefinitionFilterMatches,
  jobNameFilterMatches,
  LIST_JOBS_PAGE,
  listPage,
  newestFirst,
  serverError,
  terminatesRunning,
  timeout,
  tooManyRequests,
} from "./batchSemantics";

describe("ListJobs' JOB_NAME filter (ListJobs API reference)", () => {
  // "test1 matches both Test1 and test1, and test1* matches both test1 and Test10."
  it.each([
    ["test1", "Test1", true],
    ["test1", "test1", true],
    ["test1*", "test1", true],
    ["test1*", "Test10", true],
    ["test1", "test10", false],
    ["test1*", "test", false],
    ["TEST1*", "test10", true],
    // Only a trailing asterisk is a wildcard.
    ["te*t1", "test1", false],
  ] as const)("%s matches %s: %s", (value, name, expected) => {
    expect(jobNameFilterMatches(value, name)).toBe(expected);
  });
});

describe("pages, order and limits", () => {
  it("pages of at most 100, the last without a nextToken", () => {
    const items = Array.from({ length: 201 }, (_, i) => i);
    const first = listPage(items, undefined);
    const second = listPage(items, first.nextToken);
    const third = listPage(items, second.nextToken);
    expect([first.items.length, second.items.length, third.items.length, third.nextToken]).toEqual([LIST_JOBS_PAGE, LIST_JOBS_PAGE, 1, undefined]);
    expect(listPage(items, undefined, 500).items).toHaveLength(LIST_JOBS_PAGE);
    expect(listPage(Array.from({ length: 100 }), undefined).nextToken).toBeUndefined();
  });

  it("newest first; DescribeJobs takes at most 100 ids", () => {
    expect(newestFirst([{ createdAt: 1 }, { createdAt: 3 }, { createdAt: 2 }]).map((j) => j.createdAt)).toEqual([3, 2, 1]);
    expect(DESCRIBE_JOBS_MAX).toBe(100);
  });

  it("its errors classify as the production code expects: 429 is throttling, 400 and 403 are Batch's refusals, 500 and a timeout may have created the job", () => {
    expect([isThrottlingError(tooManyRequests()), isAmbiguousSubmitFailure(tooManyRequests())]).toEqual([true, false]);
    expect([isClientError(batchClientError("bad")), isThrottlingError(batchClientError("bad"))]).toEqual([true, false]);
    expect(isClientError(batchClientError("no", "AccessDeniedException", 403))).toBe(true);
    expect([isThrottlingError(serverError()), isClientError(serverError()), isAmbiguousSubmitFailure(serverError()), isAmbiguousSubmitFailure(timeout())]).toEqual([false, false, true, true]);
  });
});

describe("ListJobs' JOB_DEFINITION filter (ListJobs API reference)", () => {
  // "jd1 matches only jd1, and jd1* matches both jd1 and jd1A"; a name matches any revision, an ARN its own.
  const arn = (rev: number) => `arn:aws:batch:eu-west-1:123456789012:job-definition/jd1:${rev}`;
  it.each([
    ["jd1", "jd1", true],
    ["jd1", "jd1A", false],
    ["jd1*", "jd1A", true],
    ["jd1", arn(3), true],
    ["JD1", "jd1", false],
    [arn(3), arn(3), true],
    [arn(3), arn(4), false],
  ] as const)("%s matches %s: %s", (value, definition, expected) => {
    expect(jobDefinitionFilterMatches(value, definition)).toBe(expected);
  });
});

describe("termination, cancellation and array parents (TerminateJob, CancelJob API references; Array jobs)", () => {
  it("TerminateJob terminates STARTING and RUNNING jobs and cancels the rest; CancelJob cancels SUBMITTED, PENDING and RUNNABLE only", () => {
    const states = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"] as const;
    expect(states.map(terminatesRunning)).toEqual([false, false, false, true, true]);
    expect(states.map(cancellable)).toEqual([true, true, true, false, false]);
  });

  it("an array parent is PENDING while a child lives, then SUCCEEDED if every child did, else FAILED", () => {
    expect(arrayParentStatus({ RUNNING: 1, SUCCEEDED: 9 })).toBe("PENDING");
    expect(arrayParentStatus({ SUCCEEDED: 10 })).toBe("SUCCEEDED");
    expect(arrayParentStatus({ SUCCEEDED: 9, FAILED: 1 })).toBe("FAILED");
  });
});
