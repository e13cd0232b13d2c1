/**
 * The csv-stats example end to end on this machine: `batch-pipeline run FILE --stack csv --executor process`
 * (in-process, as tests/cli/run/run.test.ts runs it) with the repository's Pulumi.csv.yaml, its chunk size
 * lowered so a CSV of a few MB makes 8 stats tasks, in a copy of the project whose examples/ is the
 * repository's. Every record straddling a chunk boundary is counted once: summary.json equals the
 * statistics of the whole file, computed from the generated values.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { offline, tempDir } from "../cli/stackProject";
import { cli, REPO } from "../cli/support";
import { expectedSummary, generateCsv } from "./csvFixture";

const TASKS = 8;
/** Node first on the PATH: the process executor runs `node stats.mjs` with this machine's node. */
const HOST = { PATH: [dirname(process.execPath), process.env.PATH ?? ""].join(delimiter) };

/** A copy of the project with stack csv as committed but `perChunkBytes`, and the repository's examples/. */
function csvProject(perChunkBytes: number): string {
  const dir = tempDir("bp-csv-project-");
  writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(REPO, "Pulumi.yaml")));
  const stack = parseDocument(readFileSync(join(REPO, "Pulumi.csv.yaml"), "utf8"));
  const steps = stack.getIn(["config", "batch-pipeline:workflow", "steps"]) as { items: unknown[] };
  const stats = steps.items.findIndex((step) => (step as { get(k: string): unknown }).get("name") === "stats");
  stack.setIn(["config", "batch-pipeline:workflow", "steps", stats, "width", "perChunkBytes"], perChunkBytes);
  writeFileSync(join(dir, "Pulumi.csv.yaml"), stack.toString());
  // A copy, not a link: a build folder must really lie inside the project (stack/buildFolder.ts).
  cpSync(join(REPO, "examples", "csv-stats"), join(dir, "examples", "csv-stats"), { recursive: true, filter: (src) => !src.includes("node_modules") });
  return dir;
}

describe("csv-stats: batch-pipeline run --stack csv, with the process executor", () => {
  it("runs 8 stats tasks and the merge over a few MB, and summary.json counts every row exactly once", async () => {
    const csv = generateCsv(70_000, { seed: 7 });
    const size = csv.bytes.length;
    expect(size).toBeGreaterThan(2_500_000);
    const perChunkBytes = Math.ceil(size / TASKS);
    const dir = csvProject(perChunkBytes);
    mkdirSync(join(dir, "data"));
    const file = join(dir, "data", "sales.csv");
    writeFileSync(file, csv.bytes);
    const out = tempDir("bp-csv-run-");

    const { code, stdout, stderr } = await cli(["run", file, "--stack", "csv", "--executor", "process", "--out", out], offline(dir, HOST));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`├─ stats  SUCCEEDED  ${TASKS}/${TASKS}`);
    expect(stdout).toContain("└─ merge  SUCCEEDED  1/1");
    const runId = /^run ([0-9a-f]{24}) /.exec(stdout)![1]!;
    const bucket = /input {4}s3:\/\/(\S+)\/incoming\/sales\.csv/.exec(stdout)![1]!;
    const versionId = /version (local-[0-9a-f]{32})/.exec(stdout)![1]!;
    const output = join(out, runId, "output");

    const summary = JSON.parse(readFileSync(join(output, "summary.json"), "utf8"));
    expect(summary).toEqual(expectedSummary(csv, { bucket, key: "incoming/sales.csv", versionId, runId, parts: TASKS }));

    // Each task covered its own bytes, together all of them, and found some rows.
    const parts = readdirSync(join(output, "parts")).sort((a, b) => parseInt(a) - parseInt(b));
    expect(parts).toEqual(Array.from({ length: TASKS }, (_, i) => `${i}.json`));
    const ranges = parts.map((p) => JSON.parse(readFileSync(join(output, "parts", p), "utf8")) as { range: [number, number]; rows: number; chunkBytes: number });
    expect(ranges.map((p) => p.range)).toEqual(Array.from({ length: TASKS }, (_, i) => [i * perChunkBytes, Math.min((i + 1) * perChunkBytes, size)]));
    expect(ranges.every((p) => p.rows > 0 && p.chunkBytes === perChunkBytes)).toBe(true);
    expect(ranges.reduce((n, p) => n + p.rows, 0)).toBe(csv.rows);

    const log = readFileSync(join(out, runId, "logs", "stats", "3.log"), "utf8");
    expect(log).toMatch(new RegExp(`^stats task 3 of ${TASKS}: bytes ${3 * perChunkBytes}-${4 * perChunkBytes - 1} of ${file.replace(/[.]/g, "\\.")}, read \\d+ bytes in 2 reads: ${ranges[3]!.rows} rows -> ${join(output, "parts", "3.json").replace(/[.]/g, "\\.")}\\n$`));
  });
});

describe("csv-stats: the committed stack on the committed sample", () => {
  it("runs as docs/writing-jobs.md says, and its summary.json has the column the guide shows", async () => {
    const out = tempDir("bp-csv-run-");
    const { code, stdout } = await cli(["run", "examples/csv-stats/sample.csv", "--stack", "csv", "--executor", "process", "--out", out], offline(REPO, HOST));
    expect(code).toBe(0);
    const runId = /^run ([0-9a-f]{24}) /.exec(stdout)![1]!;
    const summary = JSON.parse(readFileSync(join(out, runId, "output", "summary.json"), "utf8")) as { rows: number; parts: number; columns: { name: string }[] };
    expect({ rows: summary.rows, parts: summary.parts }).toEqual({ rows: 12, parts: 1 });
    const guide = readFileSync(join(REPO, "docs", "writing-jobs.md"), "utf8");
    const shown = JSON.parse(/```json\n([\s\S]*?)```/.exec(guide)![1]!) as { name: string };
    expect(summary.columns.find((c) => c.name === shown.name)).toEqual(shown);
  });
});
