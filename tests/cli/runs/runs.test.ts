/**
 * `batch-pipeline runs` against the demo account: recent runs from the start and process queues' ListJobs
 * with an `AFTER_CREATED_AT` filter (one filter per call; with it every status is returned, newest first, 100
 * a page with `nextToken`: ListJobs API reference), merged newest first and grouped by run id (a run the
 * trigger submitted inline has no start job: only its DAG on the process queue), each read with fetchRun.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { RUNS_CONCURRENCY } from "../../../cli/runs/list";
import { type DemoAccount, installDemoAccount } from "../demoAccount";
import { cli, cliContext, OUTPUTS, type TestContextOptions } from "../support";

const H = 3_600_000;
let account: DemoAccount | undefined;
afterEach(() => {
  account?.mock.restore();
  vi.restoreAllMocks();
});

async function demo(options: TestContextOptions = {}) {
  const ctx = cliContext({ env: { BATCH_PIPELINE_STACK: "dev" }, ...options });
  const installed = await installDemoAccount(ctx);
  account = installed.account;
  return { ctx, ...installed };
}

const queueListings = (queue: string) =>
  account!.calls.filter((c) => c.command === "ListJobs" && JSON.stringify(c.input).includes("AFTER_CREATED_AT") && (c.input as { jobQueue?: string }).jobQueue === queue).map((c) => c.input);
const startQueueListings = () => queueListings(OUTPUTS.startQueueArn);
const processQueueListings = () => queueListings(OUTPUTS.processQueueArn);
/** Runs read: each fetchRun lists the start queue by the run's name once. */
const runsRead = () => account!.calls.filter((c) => c.command === "ListJobs" && JSON.stringify(c.input).includes('"JOB_NAME","values":["start-')).length;

describe("runs", () => {
  it("lists the last day's runs newest first, one line each, a run's two start jobs as one run", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout, stderr } = await cli(["runs"], ctx);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toBe(`RUN                       STARTED               DURATION  DONE            FAILED  STATE      INPUT
${runs.inProgress}  2026-12-01 11:46:00Z  14m 00s   13,741/100,002  0       RUNNING    incoming/2026-12-01/clickstream-eu.parquet
${runs.failed}  2026-12-01 09:00:00Z  9m 23s    234/238         4       FAILED     incoming/2026-11-30/invoices-2026-11.csv
${runs.succeeded}  2026-12-01 07:00:00Z  5m 31s    14/14           0       SUCCEEDED  incoming/2026-12-01/orders-0001.csv
3 runs since 2026-11-30 12:00:00Z (--since 24h), newest first; 11 Batch calls
`);
    // Both queues once (the DAGs' plain jobs and array parents fit one page; their 100,000+ array children are not listed), 3 calls a run.
    const window = { filters: [{ name: "AFTER_CREATED_AT", values: [String(ctx.now() - 24 * H)] }] };
    expect(startQueueListings()).toEqual([{ jobQueue: OUTPUTS.startQueueArn, ...window }]);
    expect(processQueueListings()).toEqual([{ jobQueue: OUTPUTS.processQueueArn, ...window }]);
    expect(account!.calls).toHaveLength(11);
  });

  it("--since sets the AFTER_CREATED_AT filter", async () => {
    const { ctx, runs } = await demo();
    const { stdout } = await cli(["runs", "--since", "4h"], ctx);
    expect(startQueueListings()).toEqual([{ jobQueue: OUTPUTS.startQueueArn, filters: [{ name: "AFTER_CREATED_AT", values: [String(ctx.now() - 4 * H)] }] }]);
    expect(stdout.split("\n").slice(1, -2).map((l) => l.slice(0, 24))).toEqual([runs.inProgress, runs.failed]);
    expect(stdout).toContain("2 runs since 2026-12-01 08:00:00Z (--since 4h), newest first; 8 Batch calls\n");
  });

  it("past a day, says that Batch forgets finished jobs and where their states stay", async () => {
    const { ctx } = await demo();
    const { stdout } = await cli(["runs", "--since", "7d"], ctx);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(
      `Batch lists a finished job only for a limited time, which AWS does not document (possibly as little as 24 hours), so older runs may be missing here; every job state change stays in CloudWatch Logs group ${OUTPUTS.jobStateLogGroup}`,
    );
  });

  it.each([
    ["failed", "failed"],
    ["succeeded", "succeeded"],
    ["running", "inProgress"],
  ] as const)("--status %s keeps only those runs", async (status, which) => {
    const { ctx, runs } = await demo();
    const { stdout } = await cli(["runs", "--status", status], ctx);
    expect(stdout.split("\n").slice(1, -2).map((l) => l.slice(0, 24))).toEqual([runs[which]]);
    expect(stdout).toContain(`1 ${status} run since`);
  });

  it("--limit shows the newest N and says there are more", async () => {
    const { ctx, runs } = await demo();
    const { stdout } = await cli(["runs", "--limit", "2"], ctx);
    expect(stdout.split("\n").slice(1, 3).map((l) => l.slice(0, 24))).toEqual([runs.inProgress, runs.failed]);
    expect(stdout.trimEnd().split("\n").slice(-2)).toEqual(["2 runs since 2026-11-30 12:00:00Z (--since 24h), newest first; 11 Batch calls", "showing the newest 2; --limit shows more"]);
  });

  it("pages through more than 100 start jobs (nextToken), reads runs 4 at a time, and stops reading at --limit", async () => {
    const { ctx } = await demo();
    for (let n = 0; n < 120; n++) await account!.addRun({ key: `incoming/batch/part-${String(n).padStart(3, "0")}.csv`, sizeBytes: 3 * 1_048_576, at: -(20 + n) * 60_000 });
    const all = await cli(["runs", "--limit", "200", "--json"], ctx);
    const rows = JSON.parse(all.stdout) as { runId: string; createdAt: number; key: string }[];
    expect(rows).toHaveLength(123);
    expect(rows.map((r) => r.createdAt)).toEqual([...rows.map((r) => r.createdAt)].sort((a, b) => b - a));
    expect(new Set(rows.map((r) => r.runId)).size).toBe(123);
    const pages = startQueueListings();
    expect(pages).toHaveLength(2);
    expect(pages[1]).toMatchObject({ nextToken: expect.any(String) });

    const before = account!.calls.length;
    const some = await cli(["runs", "--limit", "10"], cliContext({ env: { BATCH_PIPELINE_STACK: "dev" }, now: ctx.now() }));
    expect(some.stdout.split("\n").filter((l) => /^[0-9a-f]{24} /.test(l))).toHaveLength(10);
    account!.calls.splice(0, before);
    expect(startQueueListings()).toHaveLength(1);
    expect(runsRead()).toBeLessThanOrEqual(10 + RUNS_CONCURRENCY - 1);
  });

  it("gets every run right when Batch throttles (TooManyRequestsException is retried with backoff)", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const { ctx, runs } = await demo();
    account!.callsPerSecond = 3;
    const { code, stdout } = await cli(["runs", "--json"], ctx);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).map((r: { runId: string; state: string }) => [r.runId, r.state])).toEqual([
      [runs.inProgress, "RUNNING"],
      [runs.failed, "FAILED"],
      [runs.succeeded, "SUCCEEDED"],
    ]);
    expect(ctx.slept.length).toBeGreaterThan(0);
  });

  it("--json prints one JSON array and nothing else on stdout; notes go to stderr", async () => {
    const { ctx, runs } = await demo();
    const { stdout, stderr } = await cli(["runs", "--json", "--since", "2d"], ctx);
    const rows = JSON.parse(stdout);
    expect(rows[2]).toEqual({ runId: runs.succeeded, state: "SUCCEEDED", createdAt: ctx.now() - 5 * H, stoppedAt: ctx.now() - 5 * H + 331_270, key: "incoming/2026-12-01/orders-0001.csv", startJobs: 2, orchestrator: "container", tasks: { total: 14, done: 14, failed: 0 }, durationMs: 331_270 });
    expect(stderr).toMatch(/^Batch lists a finished job only for a limited time/);
  });

  it("says so when there is no run in the window", async () => {
    const { ctx } = await demo();
    const { code, stdout } = await cli(["runs", "--since", "5m"], ctx);
    expect({ code, stdout }).toEqual({ code: 0, stdout: `no runs since 2026-12-01 11:55:00Z (--since 5m) on ${OUTPUTS.startQueueArn} or ${OUTPUTS.processQueueArn}\n` });
  });

  describe("a run the trigger submitted inline (no start job, only its DAG on the process queue)", () => {
    const M = 60_000;
    const INLINE_KEY = "incoming/2026-12-01/sensor-7\x1b[2J.csv";
    const rowIds = (stdout: string) => stdout.split("\n").filter((l) => /^[0-9a-f]{24} /.test(l)).map((l) => l.slice(0, 24));

    it("is listed once, in time order among the others, with its input read from a task's environment (escaped), and the summary says so", async () => {
      const { ctx, runs } = await demo();
      const inline = await account!.addRun({ key: INLINE_KEY, sizeBytes: 5 * 1_048_576, versionId: "s7", at: -30 * M, inline: true });
      const { code, stdout, stderr } = await cli(["runs"], ctx);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(rowIds(stdout)).toEqual([runs.inProgress, inline, runs.failed, runs.succeeded]);
      const row = stdout.split("\n").find((l) => l.startsWith(inline))!;
      expect(row.split(/\s{2,}/)).toEqual([inline, "2026-12-01 11:30:00Z", expect.stringMatching(/^\dm \d\ds$/), "7/7", "0", "SUCCEEDED", "incoming/2026-12-01/sensor-7\\x1b[2J.csv"]);
      expect(stdout).not.toContain("\x1b");
      expect(stdout).toContain("4 runs since 2026-11-30 12:00:00Z (--since 24h), newest first; 1 with no start job (submitted inline by the trigger); 14 Batch calls\n");
    });

    it("--json says how each run was started: `orchestrator` inline (0 start jobs) or container", async () => {
      const { ctx, runs } = await demo();
      const inline = await account!.addRun({ key: INLINE_KEY, sizeBytes: 5 * 1_048_576, versionId: "s7", at: -30 * M, inline: true });
      const rows = JSON.parse((await cli(["runs", "--json"], ctx)).stdout) as { runId: string; orchestrator: string; startJobs: number; key: string; state: string }[];
      expect(rows.map((r) => [r.runId, r.orchestrator, r.startJobs])).toEqual([
        [runs.inProgress, "container", 1],
        [inline, "inline", 0],
        [runs.failed, "container", 1],
        [runs.succeeded, "container", 2],
      ]);
      expect(rows[1]).toMatchObject({ key: INLINE_KEY, state: "SUCCEEDED" });
    });

    it("pages through the process queue (nextToken) for runs that are only there, and stops listing it at --limit", async () => {
      const { ctx } = await demo();
      // Each has 3 jobs (prepare, an array of 3 tasks, merge): 390 jobs, and the standard runs', on the process queue: 5 pages.
      for (let n = 0; n < 130; n++) await account!.addRun({ key: `incoming/inline/part-${String(n).padStart(3, "0")}.csv`, sizeBytes: 3 * 1_048_576, at: -(20 + n) * M, inline: true });
      const all = await cli(["runs", "--limit", "200", "--json"], ctx);
      const rows = JSON.parse(all.stdout) as { runId: string; createdAt: number; orchestrator: string }[];
      expect(rows).toHaveLength(133);
      expect(new Set(rows.map((r) => r.runId)).size).toBe(133);
      expect(rows.map((r) => r.createdAt)).toEqual([...rows.map((r) => r.createdAt)].sort((a, b) => b - a));
      expect(rows.filter((r) => r.orchestrator === "inline")).toHaveLength(130);
      const pages = processQueueListings();
      expect(pages).toHaveLength(5);
      expect(pages.slice(1)).toEqual(Array(4).fill(expect.objectContaining({ nextToken: expect.any(String) })));
      expect(startQueueListings()).toHaveLength(1);

      const before = account!.calls.length;
      const some = await cli(["runs", "--limit", "10"], cliContext({ env: { BATCH_PIPELINE_STACK: "dev" }, now: ctx.now() }));
      expect(rowIds(some.stdout)).toHaveLength(10);
      account!.calls.splice(0, before);
      expect(processQueueListings()).toHaveLength(1);
    });

    it("--limit keeps the newest runs of both queues: the queues' listings are merged newest first", async () => {
      const { ctx, runs } = await demo();
      const inline = await account!.addRun({ key: "incoming/2026-12-01/late.csv", sizeBytes: 1_048_576, at: -2 * M, inline: true });
      const { stdout } = await cli(["runs", "--limit", "2"], ctx);
      expect(rowIds(stdout)).toEqual([inline, runs.inProgress]);
    });

    it("leaves out a container run begun before the window though its DAG's jobs were created in it", async () => {
      const { ctx, runs } = await demo();
      // The start job 10 s before the window, its jobs 18 s into it.
      await account!.addRun({ key: "incoming/2026-12-01/edge.csv", sizeBytes: 1_048_576, at: -4 * 60 * M - 10_000 });
      const { stdout } = await cli(["runs", "--since", "4h"], ctx);
      expect(rowIds(stdout)).toEqual([runs.inProgress, runs.failed]);
    });

    it("reads no run for jobs whose names only look like a run's (another tool's, the wrong case)", async () => {
      const { ctx, runs } = await demo();
      const upper = runs.failed.toUpperCase();
      for (const [n, jobName] of ["nightly-backup-2026-12-01", `${upper}-merge`, `START-${upper}`, `${runs.failed}0-merge`].entries()) {
        account!.model.add({ jobId: `other-${n}`, jobName, jobQueue: OUTPUTS.processQueueArn, jobDefinition: "arn:aws:batch:eu-west-1:123456789012:job-definition/backup:1", createdAt: ctx.now() - 60_000 - n, status: "RUNNING" });
      }
      const { stdout, stderr } = await cli(["runs"], ctx);
      expect(stderr).toBe("");
      expect(rowIds(stdout)).toEqual([runs.inProgress, runs.failed, runs.succeeded]);
      expect(runsRead()).toBe(3);
    });
  });

  it.each([
    [["--since", "3x"], "error: --since 3x: must be a whole number and a unit, m (minutes), h (hours), d (days) or w (weeks), e.g. --since 90m or --since 7d\n"],
    [["--status", "done"], "error: --status done: must be one of failed, succeeded, running\n"],
    [["--limit", "0"], "error: --limit 0: must be a whole number from 1 to 1000\n"],
  ])("refuses %j before calling AWS; exit 2", async (flags, message) => {
    const { ctx } = await demo();
    const { code, stderr } = await cli(["runs", ...flags], ctx);
    expect({ code, stderr }).toEqual({ code: 2, stderr: message });
    expect(account!.calls).toHaveLength(0);
  });
});
