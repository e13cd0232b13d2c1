import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeJobDefinitions,
  decodeTags,
  decodeWorkflow,
  encodeJobDefinitions,
  encodeTags,
  encodeWorkflow,
  inputEnvironment,
  inputParameters,
  isTagText,
  isTagValue,
  sanitizeTagValue,
  JOB_NAME_PATTERN,
  MAX_EXTRA_TAGS,
  MAX_JOB_NAME_CHARS,
  RUN_ID_CHARS,
  RUN_ID_PATTERN,
  START_JOB_ENV,
  TAG_KEYS,
  tagProblems,
} from "../../contract";

const contractDir = path.resolve(__dirname, "../../contract");

describe("contract/ itself", () => {
  it("imports nothing but its own files (it is serialized into the Lambda by value)", () => {
    const files = readdirSync(contractDir).filter((f) => f.endsWith(".ts"));
    expect(files.sort()).toEqual(["codec.ts", "delivery.ts", "env.ts", "errors.ts", "index.ts", "limits.ts", "log.ts", "orchestration.ts", "outputs.ts", "run.ts", "tags.ts", "trigger.ts"]);
    for (const file of files) {
      const source = readFileSync(path.join(contractDir, file), "utf8");
      const specifiers = [...source.matchAll(/\bfrom\s+"([^"]+)"|\brequire\("([^"]+)"\)|\bimport\("([^"]+)"\)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
      for (const specifier of specifiers) expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[a-z]+$/);
    }
  });

  it("derives the name patterns from their lengths", () => {
    expect(String(RUN_ID_PATTERN)).toBe(`/^[0-9a-f]{${RUN_ID_CHARS}}$/`);
    expect(JOB_NAME_PATTERN.test("a".repeat(MAX_JOB_NAME_CHARS))).toBe(true);
    expect(JOB_NAME_PATTERN.test("a".repeat(MAX_JOB_NAME_CHARS + 1))).toBe(false);
  });
});

describe("tagProblems", () => {
  const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, "v"]));

  it("accepts extra tags up to the budget next to the pipeline's own, not one more", () => {
    expect(tagProblems(tags(MAX_EXTRA_TAGS))).toEqual([]);
    expect(tagProblems(tags(MAX_EXTRA_TAGS + 1))).toEqual(["jobs can carry at most 50 tags, including the pipeline's 5; 51 given"]);
  });

  it("refuses keys that are empty, too long or start with aws: (any case)", () => {
    for (const key of ["", "k".repeat(129), "aws:owner", "AWS:owner"]) {
      expect(tagProblems({ [key]: "v" })).toEqual([`tag key \`${key}\` must have 1 to 128 characters and not start with \`aws:\``]);
    }
    expect(tagProblems({ ["k".repeat(128)]: "v" })).toEqual([]);
  });

  it("refuses pipeline: keys unless allowed, and counts a pipeline key the caller repeats once", () => {
    expect(tagProblems({ "Pipeline:x": "v" })).toEqual(["tag key `Pipeline:x` must not start with `pipeline:`: keys starting with `pipeline:` are the pipeline's own"]);
    expect(tagProblems({ "pipeline:x": "v" }, { pipelineKeys: "allow" })).toEqual([]);
    expect(tagProblems({ ...tags(MAX_EXTRA_TAGS), [TAG_KEYS.runId]: "x" }, { pipelineKeys: "allow" })).toEqual([]);
  });

  it("checks characters and value lengths only when strict (other readers sanitize values)", () => {
    const odd = { "team,x": "a<b>", long: "v".repeat(257), empty: "" };
    expect(tagProblems(odd)).toEqual([]);
    expect(tagProblems(odd, { strict: true })).toEqual([
      "tag key `team,x` must be letters, digits, spaces or _ . : / = + - @",
      "tag `team,x`: the value must be at most 256 letters, digits, spaces or _ . : / = + - @",
      "tag `long`: the value must be at most 256 letters, digits, spaces or _ . : / = + - @",
    ]);
    expect(tagProblems({ "ключ/数据 x": "ünïcode:=+-@ 1" }, { strict: true })).toEqual([]);
  });

  it("isTagValue is exactly what sanitizeTagValue leaves unchanged: 256 tag characters at most", () => {
    for (const value of ["acme-prod", "é".repeat(256), "x".repeat(256)]) expect(isTagValue(value)).toBe(sanitizeTagValue(value) === value);
    expect(isTagValue("x".repeat(256))).toBe(true);
    expect(isTagValue("x".repeat(257))).toBe(false);
    expect(isTagValue("acme,prod")).toBe(false);
  });

  it("isTagText allows AWS's tag characters only", () => {
    expect(isTagText("acme-prod_1 a/b=c+d@e:f.g")).toBe(true);
    expect(isTagText("acme,prod")).toBe(false);
  });
});

describe("codec", () => {
  it("round-trips the stack's tags, the job definitions map and the workflow", () => {
    const tags = { team: "data", "cost-center": "42" };
    expect(decodeTags(encodeTags(tags))).toEqual({ ok: true, value: tags });
    const names = { process: "jd-process", barrier: "jd-barrier" };
    expect(decodeJobDefinitions(encodeJobDefinitions(names))).toEqual({ ok: true, value: names });
    const workflow = { steps: [{ name: "a", jobDefinition: "process" }] };
    expect(decodeWorkflow(encodeWorkflow(workflow))).toEqual({ ok: true, value: workflow });
  });

  it("tells invalid JSON from JSON of the wrong shape", () => {
    expect(decodeTags("{team:")).toMatchObject({ ok: false, error: "json" });
    expect(decodeTags('{"team": 7}')).toEqual({ ok: false, error: "shape", message: "must be a JSON object of string tags" });
    expect(decodeTags("[]")).toMatchObject({ ok: false, error: "shape" });
    expect(decodeJobDefinitions("null")).toEqual({ ok: false, error: "shape", message: "must be a JSON object" });
    expect(decodeJobDefinitions('{"process": ""}')).toEqual({ ok: false, error: "shape", message: "values must be non-empty job definition names" });
    expect(decodeWorkflow("{")).toMatchObject({ ok: false, error: "json" });
  });

  it("passes the input object as environment and as parameters, with the same values", () => {
    const input = { bucket: "in", key: "a/b c.csv", versionId: "v1", sizeBytes: 12, eTag: "e" };
    expect(inputEnvironment(input, "r")).toEqual([
      { name: START_JOB_ENV.runId, value: "r" },
      { name: START_JOB_ENV.bucket, value: "in" },
      { name: START_JOB_ENV.key, value: "a/b c.csv" },
      { name: START_JOB_ENV.versionId, value: "v1" },
      { name: START_JOB_ENV.size, value: "12" },
      { name: START_JOB_ENV.eTag, value: "e" },
    ]);
    expect(inputParameters(input, "r")).toEqual({ runId: "r", bucket: "in", key: "a/b c.csv", versionId: "v1", size: "12" });
  });

  it("gives an unversioned object an empty version id, in the environment and the parameters", () => {
    const input = { bucket: "in", key: "k", sizeBytes: 0 };
    expect(inputEnvironment(input, "r").filter((e) => e.value === "").map((e) => e.name)).toEqual([START_JOB_ENV.versionId, START_JOB_ENV.eTag]);
    expect(inputParameters(input, "r")).toHaveProperty("versionId", "");
  });
});
