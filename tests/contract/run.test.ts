/** The run's identity (contract/run.ts): what the trigger and the CLI both derive. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JOB_NAME_PATTERN, MAX_JOB_NAME_CHARS, RUN_ID_PATTERN, startJobNamePrefix } from "../../contract";
import { computeRunId, startJobName } from "../../contract/run";

const RUN = "0123456789abcdef01234567";

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
