import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JOB_NAME_PATTERN, MAX_EXTRA_TAGS, MAX_JOB_NAME_CHARS, MAX_TAG_VALUE_CHARS, MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT, RUN_ID_PATTERN, START_JOB_ENV, startJobNamePrefix, TAG_KEYS } from "../../contract";
import type { CreatedObject } from "../../functions/objectEvents";
import { buildStartJobRequest, computeRunId, startJobName } from "../../functions/startRequest";

const RUN = "0123456789abcdef01234567";
const STACK = "batch-pipeline-dev-628b23";

describe("computeRunId", () => {
  it("given a versioned object, is the first 24 hex characters of SHA-256 over bucket, key and version", async () => {
    const expected = createHash("sha256").update(JSON.stringify(["run/v1", "b", "k.csv", "version", "v1"])).digest("hex").slice(0, 24);
    expect(await computeRunId({ bucket: "b", key: "k.csv", versionId: "v1", sequencer: "01" })).toBe(expected);
    expect(expected).toMatch(RUN_ID_PATTERN);
  });

  it("given the same version twice, returns the same id; a new version or sequencer gives a new id", async () => {
    const a = await computeRunId({ bucket: "b", key: "k", versionId: "v1", sequencer: "01" });
    expect(await computeRunId({ bucket: "b", key: "k", versionId: "v1", sequencer: "02" })).toBe(a);
    expect(await computeRunId({ bucket: "b", key: "k", versionId: "v2", sequencer: "01" })).not.toBe(a);
    const u1 = await computeRunId({ bucket: "b", key: "k", sequencer: "01" });
    expect(await computeRunId({ bucket: "b", key: "k", sequencer: "02" })).not.toBe(u1);
    expect(u1).not.toBe(a);
  });

  it("given the `null` version of a suspended bucket, uses the sequencer (every overwrite reuses `null`)", async () => {
    const first = await computeRunId({ bucket: "b", key: "k", versionId: "null", sequencer: "01" });
    const second = await computeRunId({ bucket: "b", key: "k", versionId: "null", sequencer: "02" });
    expect(first).not.toBe(second);
    expect(first).toBe(await computeRunId({ bucket: "b", key: "k", sequencer: "01" }));
  });

  it("given the same characters split differently between bucket and key, gives different ids", async () => {
    expect(await computeRunId({ bucket: "a", key: "b/c", versionId: "v" })).not.toBe(await computeRunId({ bucket: "a/b", key: "c", versionId: "v" }));
  });
});

describe("startJobName", () => {
  const longKey = `incoming/${"x".repeat(1000)}.csv`;
  // Suffix "" means the name is start-<runId> alone.
  it.each([
    ["incoming/data.csv", "data-csv"],
    ["incoming/my file+1 (copy).csv", "my-file-1-copy-csv"],
    ["incoming/café-résumé.csv", "cafe-resume-csv"],
    ["incoming/数据文件", ""],
    ["incoming/📊📈", ""],
    ["incoming/", "incoming"],
    ["///", ""],
    ["incoming/---___", ""],
    ["incoming/-lead", "lead"],
    ["incoming/a..b", "a-b"],
    ["incoming/\u0000\n\t.csv", "csv"],
  ])("given key %j, returns start-<runId> then %j: a valid name ListJobs finds by the prefix start-<runId>*", (key, tail) => {
    const name = startJobName(key, RUN);
    expect(name).toMatch(JOB_NAME_PATTERN);
    expect(name).toBe(tail === "" ? `start-${RUN}` : `start-${RUN}-${tail}`);
    expect(name.startsWith(startJobNamePrefix(RUN))).toBe(true);
  });

  it.each([[`incoming/${"x".repeat(1000)}.csv`], ["x".repeat(1024)]])("given a %#th S3 key of 1,000+ characters, keeps the end of the name within Batch's 128 characters", (key) => {
    const name = startJobName(key, RUN);
    expect(name).toMatch(JOB_NAME_PATTERN);
    expect(name).toHaveLength(MAX_JOB_NAME_CHARS);
    expect(name.startsWith(`start-${RUN}-`)).toBe(true);
  });

  it("given a 1,000-character key, keeps the end of the name and exactly 128 characters", () => {
    const name = startJobName(longKey, RUN);
    expect(name).toBe(`start-${RUN}-${"x".repeat(128 - 6 - 25 - 4)}-csv`);
  });
});

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
