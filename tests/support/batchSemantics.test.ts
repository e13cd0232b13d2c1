/**
 * The Batch behaviour every test double shares (tests/support/batchSemantics.ts), each rule against the
 * sentence of the API reference it cites, and each stateful fake answering a ListJobs by name the same way.
 */
import { ListJobsCommand, SubmitJobCommand } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { isAmbiguousSubmitFailure, isClientError, isThrottlingError } from "../../batch/calls";
import { DESCRIBE_JOBS_MAX, jobNameFilterMatches, LIST_JOBS_PAGE, listPage, newestFirst, tooManyRequests, batchClientError, serverError, timeout } from "./batchSemantics";
import { FakeBatch, mockBatch } from "../jobs/fakeBatch";

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

describe("the stateful fakes answer a ListJobs by name as Batch does", () => {
  const { batchMock, batch } = mockBatch();

  it("FakeBatch (the orchestrator's): case-insensitive, prefix with a trailing '*', newest first", async () => {
    new FakeBatch(batchMock);
    for (const jobName of ["Run1-a", "run1-b", "run2-a"]) await batch.send(new SubmitJobCommand({ jobName, jobQueue: "q", jobDefinition: "d" }));
    const names = async (value: string) => ((await batch.send(new ListJobsCommand({ jobQueue: "q", filters: [{ name: "JOB_NAME", values: [value] }] }))).jobSummaryList ?? []).map((j) => j.jobName);
    expect(await names("run1*")).toEqual(["run1-b", "Run1-a"]);
    expect(await names("RUN1-B")).toEqual(["run1-b"]);
  });
});
