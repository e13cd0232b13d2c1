import type { InputObject } from "../../contract";
import type { PlanContext } from "../../workflow/planner";
import { defaultWorkflow } from "../../workflow/spec";

export const RUN_ID = "0123456789abcdef01234567";
/** The stack's id, as infra sets it in `PIPELINE_STACK`. */
export const STACK = "pipeline-test";

export const INPUT: InputObject = { bucket: "input-bucket", key: "incoming/data file.csv", versionId: "v1", sizeBytes: 1000, eTag: "abc" };

export function context(overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    runId: RUN_ID,
    input: INPUT,
    jobDefinitions: { process: "process-def", barrier: "barrier-def" },
    jobQueue: "process-queue",
    stack: STACK,
    ...overrides,
  };
}

/** The start job's environment as the trigger and the start job definition set it (see START_JOB_ENV). */
export function startJobEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PIPELINE_RUN_ID: RUN_ID,
    PIPELINE_INPUT_BUCKET: INPUT.bucket,
    PIPELINE_INPUT_KEY: INPUT.key,
    PIPELINE_INPUT_VERSION_ID: "",
    PIPELINE_INPUT_SIZE: "2048",
    PIPELINE_INPUT_ETAG: "abc",
    PIPELINE_WORKFLOW: JSON.stringify(defaultWorkflow(3)),
    PIPELINE_PROCESS_QUEUE: "process-queue",
    PIPELINE_JOB_DEFINITIONS: JSON.stringify({ process: "process-def", barrier: "barrier-def" }),
    PIPELINE_STACK: STACK,
    ...overrides,
  };
}
