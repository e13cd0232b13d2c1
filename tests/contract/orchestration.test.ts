/** contract/orchestration.ts: the mode a stack's trigger runs in, and who submits a run's DAG. */
import { describe, expect, it } from "vitest";
import { AUTO_INLINE_MAX_SUBMIT_JOBS, runOrchestrator, triggerMode } from "../../contract";

describe("triggerMode", () => {
  it.each([
    ["container", false, "container"],
    ["container", true, "container"],
    ["inline", false, "inline"],
    ["auto", false, "auto"],
    // A run submitted inline has no start job to wait in: auto with wait always takes a start job.
    ["auto", true, "container"],
  ] as const)("mode %s with wait %s deploys a %s trigger", (mode, wait, expected) => {
    expect(triggerMode(mode, wait)).toBe(expected);
  });
});

describe("runOrchestrator", () => {
  it.each([
    ["container", 1, "container"],
    ["inline", 10_000, "inline"],
    ["auto", AUTO_INLINE_MAX_SUBMIT_JOBS, "inline"],
    ["auto", AUTO_INLINE_MAX_SUBMIT_JOBS + 1, "container"],
  ] as const)("mode %s, %i SubmitJob calls: %s", (mode, calls, expected) => {
    expect(runOrchestrator(mode, calls)).toBe(expected);
  });
});
