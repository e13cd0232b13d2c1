import type { JobStatus } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { startJobOwner } from "../../jobs/ownership";

describe("startJobOwner (which of a run's start jobs submits its DAG)", () => {
  const job = (jobId: string, createdAt: number, status: JobStatus = "RUNNING") => ({ jobId, createdAt, status });
  it.each([
    ["alone", job("me", 10), [job("me", 10)], undefined],
    ["the older of two live ones", job("me", 10), [job("me", 10), job("later", 20)], undefined],
    ["younger than a live one", job("me", 20), [job("first", 10), job("me", 20)], "first"],
    ["younger than a RUNNABLE one (it owns the run, even before it runs)", job("me", 20), [job("first", 10, "RUNNABLE"), job("me", 20)], "first"],
    // Finished start jobs do not own the run: a SUCCEEDED one submitted the DAG (submitPlan finds it) or
    // stood aside as a duplicate; a FAILED one gave up.
    ["younger than a SUCCEEDED one", job("me", 20), [job("first", 10, "SUCCEEDED"), job("me", 20)], undefined],
    ["younger than a FAILED one", job("me", 20), [job("first", 10, "FAILED"), job("me", 20)], undefined],
    ["after a FAILED owner and a duplicate that stood aside", job("c", 30), [job("a", 10, "FAILED"), job("b", 20, "SUCCEEDED"), job("c", 30)], undefined],
    ["younger than a STARTING one", job("me", 20), [job("first", 10, "STARTING"), job("me", 20)], "first"],
    ["created in the same millisecond, larger id", job("b", 10), [job("a", 10), job("b", 10)], "a"],
    ["created in the same millisecond, smaller id", job("a", 10), [job("a", 10), job("b", 10)], undefined],
    ["third of three", job("c", 30), [job("c", 30), job("b", 20), job("a", 10)], "a"],
  ] as const)("%s → owner %s", (_label, own, namesakes, owner) => {
    expect(startJobOwner(own, namesakes)?.jobId).toBe(owner);
  });
});
