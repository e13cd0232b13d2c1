/** The run's identity (contract/run.ts): what the trigger and the CLI both derive. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JOB_NAME_PATTERN, MAX_JOB_NAME_CHARS, RUN_ID_PATTERN, startJobNamePrefix } from "../../contract";
import { computeRunId, runOfJobName, startJobName } from "../../contract/run";
import { planWorkflow } from "../../workflow/planner";
import { parseWorkflowSpec } from "../../workflow/spec";

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

describe("runOfJobName", () => {
  it("given every name the trigger and the planner give a run (start job, tasks, arrays, barriers), returns the run and which job it is", () => {
    const spec = parseWorkflowSpec({ steps: [{ name: "split", jobDefinition: "process" }, { name: "fan", jobDefinition: "process", dependsOn: ["split"], width: { fixed: 30_000 } }, { name: "join", jobDefinition: "process", dependsOn: ["fan"] }] });
    const plan = planWorkflow(spec, { runId: RUN, input: { bucket: "b", key: "k.csv", sizeBytes: 1 }, jobDefinitions: { process: "p", barrier: "b" }, jobQueue: "q", stack: "s" });
    expect(plan.jobs.length).toBeGreaterThan(3);
    for (const job of plan.jobs) expect(runOfJobName(job.request.jobName)).toEqual({ runId: RUN, kind: "dag" });
    for (const key of ["incoming/data.csv", "incoming/数据文件", `incoming/${"x".repeat(1000)}`]) expect(runOfJobName(startJobName(key, RUN))).toEqual({ runId: RUN, kind: "start" });
  });

  it.each([
    ["no name", undefined],
    ["empty", ""],
    ["the run id alone (no `-`)", RUN],
    ["upper-case start", `START-${RUN}-data-csv`],
    ["upper-case run id", `${RUN.toUpperCase()}-merge`],
    ["a 23-character id", `${RUN.slice(1)}-merge`],
    ["a 25-character id", `${RUN}a-merge`],
    ["a start job's id followed by more hex", `start-${RUN}0-data`],
    ["another word before start", `restart-${RUN}-data`],
    ["start joined by `_`", `start_${RUN}-data`],
    ["the older start naming (id last)", `start-data-csv-${RUN}`],
    ["a non-hex character in the id", `0123456789abcdef0123456g-merge`],
    ["another tool's job", "nightly-backup-2026-12-01"],
  ])("given %s, returns no run", (_, name) => {
    expect(runOfJobName(name)).toBeUndefined();
  });

  it("given another run's names, returns that run: the id is read, never assumed", () => {
    const other = "fedcba9876543210fedcba98";
    expect(runOfJobName(`${other}-prepare`)).toEqual({ runId: other, kind: "dag" });
    expect(runOfJobName(`start-${other}`)).toEqual({ runId: other, kind: "start" });
  });
});
