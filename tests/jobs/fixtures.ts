import type { InputObject } from "../../jobs/contract";
import type { PlanContext } from "../../jobs/planner";

export const RUN_ID = "0123456789abcdef01234567";

export const INPUT: InputObject = { bucket: "input-bucket", key: "incoming/data file.csv", versionId: "v1", sizeBytes: 1000, eTag: "abc" };

export function context(overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    runId: RUN_ID,
    input: INPUT,
    jobDefinitions: { process: "process-def", barrier: "barrier-def" },
    jobQueue: "process-queue",
    ...overrides,
  };
}
