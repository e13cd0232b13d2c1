/**
 * The start job's SubmitJob request (its identity, the run id and job name, is the contract's: contract/run.ts).
 *
 * Runs inside the serialized inline Lambda: no value imports of npm packages or Node builtins here
 * (SHA-256 comes from the Web Crypto global).
 */
import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { inputEnvironment, inputParameters } from "../contract/codec";
import { startJobName } from "../contract/run";
import { sanitizeTagValue, START_STEP_TAG, TAG_KEYS } from "../contract/tags";
import type { CreatedObject } from "./objectEvents";

/** Where and how the start job is submitted. */
export interface StartJobTarget {
  /** Name or ARN of the start queue. */
  jobQueue: string;
  /** Name (latest active revision) or ARN of the start job definition. */
  jobDefinition: string;
  /**
   * The stack's id, the value of the {@link TAG_KEYS.stack} tag: the orchestrator's role may terminate
   * only jobs that carry its own stack's tag. Sent as is (never sanitized), so it must already be a
   * valid tag value.
   */
  stack: string;
  /**
   * Extra cost-allocation tags (e.g. project, environment). The pipeline's own `pipeline:*` tags win on a clash.
   * @default {}
   */
  tags?: Readonly<Record<string, string>>;
  /**
   * Fair-share identifier, required by Batch when the start queue has a scheduling policy.
   * @default undefined (no share identifier)
   */
  shareIdentifier?: string;
}

/**
 * The SubmitJob request for one object version's start job. The object is passed twice: as environment
 * overrides (what the orchestrator reads) and as parameters (for `Ref::` in the job definition's command).
 */
export function buildStartJobRequest(object: CreatedObject, runId: string, target: StartJobTarget): SubmitJobCommandInput {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(target.tags ?? {})) tags[k] = sanitizeTagValue(v);
  tags[TAG_KEYS.runId] = runId;
  tags[TAG_KEYS.bucket] = sanitizeTagValue(object.bucket);
  tags[TAG_KEYS.key] = sanitizeTagValue(object.key);
  tags[TAG_KEYS.step] = START_STEP_TAG;
  tags[TAG_KEYS.stack] = target.stack;
  return {
    jobName: startJobName(object.key, runId),
    jobQueue: target.jobQueue,
    jobDefinition: target.jobDefinition,
    ...(target.shareIdentifier ? { shareIdentifier: target.shareIdentifier } : {}),
    parameters: inputParameters(object, runId),
    containerOverrides: { environment: inputEnvironment(object, runId) },
    tags,
    // The orchestrator's containers (ECS tasks) get the same tags, so their cost is attributed too.
    propagateTags: true,
  };
}
