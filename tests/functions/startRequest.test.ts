import { describe, expect, it } from "vitest";
import { MAX_EXTRA_TAGS, MAX_TAG_VALUE_CHARS, MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT, START_JOB_ENV, TAG_KEYS } from "../../contract";
import type { CreatedObject } from "../../functions/objectEvents";
import { buildStartJobRequest } from "../../functions/startRequest";

const RUN = "0123456789abcdef01234567";
const STACK = "batch-pipeline-dev-628b23";

describe("buildStartJobRequest", () => {
  const object: CreatedObject = {
    index: 0,
    eventName: "ObjectCreated:Put",
    bucket: "input-bucket",
    key: "incoming/my file+1.csv",
    versionId: "v1",
    sizeBytes: 0,
    eTag: "d41d8cd98f00b204e9800998ecf8427e",
    sequencer: "01",
  };

  it("given an object, passes it as environment, parameters and tags, and propagates the tags", () => {
    expect(buildStartJobRequest(object, RUN, { jobQueue: "start-queue", jobDefinition: "start-def", stack: STACK })).toEqual({
      jobName: `start-${RUN}-my-file-1-csv`,
      jobQueue: "start-queue",
      jobDefinition: "start-def",
      parameters: { runId: RUN, bucket: "input-bucket", key: "incoming/my file+1.csv", versionId: "v1", size: "0" },
      containerOverrides: {
        environment: [
          { name: START_JOB_ENV.runId, value: RUN },
          { name: START_JOB_ENV.bucket, value: "input-bucket" },
          { name: START_JOB_ENV.key, value: "incoming/my file+1.csv" },
          { name: START_JOB_ENV.versionId, value: "v1" },
          { name: START_JOB_ENV.size, value: "0" },
          { name: START_JOB_ENV.eTag, value: "d41d8cd98f00b204e9800998ecf8427e" },
        ],
      },
      tags: {
        [TAG_KEYS.runId]: RUN,
        [TAG_KEYS.bucket]: "input-bucket",
        [TAG_KEYS.key]: "incoming/my file+1.csv",
        [TAG_KEYS.step]: "start",
        [TAG_KEYS.stack]: STACK,
      },
      propagateTags: true,
    });
  });

  it("given an unversioned object without eTag, sends empty version id and eTag", () => {
    const { versionId: _v, eTag: _e, ...unversioned } = object;
    const request = buildStartJobRequest(unversioned, RUN, { jobQueue: "q", jobDefinition: "d", stack: STACK });
    expect(request.parameters!.versionId).toBe("");
    expect(request.containerOverrides!.environment).toContainEqual({ name: START_JOB_ENV.versionId, value: "" });
    expect(request.containerOverrides!.environment).toContainEqual({ name: START_JOB_ENV.eTag, value: "" });
  });

  it("given a long unicode key, cuts the key tag to 256 characters and replaces characters tags reject", () => {
    const key = `incoming/${"数".repeat(300)}|<>.csv`;
    const request = buildStartJobRequest({ ...object, key }, RUN, { jobQueue: "q", jobDefinition: "d", stack: STACK });
    const tag = request.tags![TAG_KEYS.key]!;
    expect(Array.from(tag)).toHaveLength(MAX_TAG_VALUE_CHARS);
    expect(tag).toMatch(/^[\p{L}\p{N}\p{Z}_.:/=+\-@]*$/u);
    // The job still gets the exact key.
    expect(request.parameters!.key).toBe(key);
  });

  it("given extra tags and a share identifier, adds them but never lets them replace the pipeline's tags", () => {
    const request = buildStartJobRequest(object, RUN, {
      jobQueue: "q",
      jobDefinition: "d",
      stack: STACK,
      tags: { project: "genomics", [TAG_KEYS.step]: "spoofed" },
      shareIdentifier: "blue",
    });
    expect(request.tags).toMatchObject({ project: "genomics", [TAG_KEYS.step]: "start" });
    expect(request.shareIdentifier).toBe("blue");
  });

  // IAM lets the orchestrator terminate only jobs whose `aws:ResourceTag/pipeline:stack` is its own
  // stack, so an extra tag must never replace it.
  it("tags the start job with its stack (pipeline:stack), which extra tags cannot replace", () => {
    const request = buildStartJobRequest(object, RUN, { jobQueue: "q", jobDefinition: "d", stack: STACK, tags: { [TAG_KEYS.stack]: "someone-elses" } });
    expect(request.tags![TAG_KEYS.stack]).toBe(STACK);
  });

  // Batch: at most 50 tags per job (MAX_TAGS_PER_JOB); the pipeline's own are TAG_KEYS, stack included.
  it("leaves room for exactly 50 - 5 = 45 extra tags, so a start job with all of them has 50 tags", () => {
    expect(PIPELINE_TAG_COUNT).toBe(5);
    expect(MAX_EXTRA_TAGS).toBe(MAX_TAGS_PER_JOB - PIPELINE_TAG_COUNT);
    expect(MAX_EXTRA_TAGS).toBe(45);
    const tags = Object.fromEntries(Array.from({ length: MAX_EXTRA_TAGS }, (_, i) => [`k${i}`, "v"]));
    expect(Object.keys(buildStartJobRequest(object, RUN, { jobQueue: "q", jobDefinition: "d", stack: STACK, tags }).tags!)).toHaveLength(MAX_TAGS_PER_JOB);
  });
});
