/**
 * `batch-pipeline status RUN` against the demo account (tests/cli/demoAccount.ts): the screen of a run in
 * progress, a finished run and a failed run with an array step, in plain and TTY form; the Batch calls it
 * makes (ListJobs by name prefix on both queues, DescribeJobs of at most 100 ids, failed array children
 * listed by `arrayJobId` and `jobStatus` FAILED: ListJobs API reference); `--json`; exit codes.
 */
import { ListJobsCommand, type ListJobsCommandInput } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { FAILED_ARRAYS_LISTED } from "../../../cli/runModel/failures";
import { demoPerTest } from "../demoAccount";
import { cli, OUTPUTS } from "../support";

const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;
const M = 60_000;
const { demo, account } = demoPerTest();

const IN_PROGRESS = `run 65cc43dcc8ec0bb29de29f4a  RUNNING  13,741/100,002 tasks done
input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/clickstream-eu.parquet
         98 GiB (104,857,600,000 bytes), version 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY
started  2026-12-01 11:46:00Z, 14m 00s ago
start    start-65cc43dcc8ec0bb29de29f4a-clickstream-eu-parquet  SUCCEEDED  13s

├─ prepare  SUCCEEDED             1/1  ████████████████████  1m 07s
├─ process  RUNNING    13,740/100,000  ██▒·················  11m 36s
│  │        1,468 running · 84,792 runnable
│  ├─ p0       tasks 0–9,999        SUCCEEDED  10,000/10,000
│  ├─ p1       tasks 10,000–19,999  RUNNING    3,740/10,000   1,468 running · 4,792 runnable
│  └─ p2 … p9  tasks 20,000–99,999  WAITING    0/80,000       80,000 runnable
└─ merge    WAITING               0/1  ····················
`;

const SUCCEEDED = `run 14955dfc1f72f8be1d4edb65  SUCCEEDED  14/14 tasks done
input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/orders-0001.csv
         12 MiB (12,345,678 bytes), version Wq0Ojz3g2b.kJ5sx1mQpG4tQ7vXo8N2e
started  2026-12-01 07:00:00Z, took 5m 31s, ended 2026-12-01 07:05:31Z
starts   start-14955dfc1f72f8be1d4edb65-orders-0001-csv  SUCCEEDED  6s
         start-14955dfc1f72f8be1d4edb65-orders-0001-csv  SUCCEEDED  14s  attempt 2
         2 start jobs for one object version (a repeated S3 event); only one submits the DAG
         2 jobs of an earlier attempt, replaced (not counted)

├─ prepare  SUCCEEDED    1/1  ████████████████████  1m 07s
├─ process  SUCCEEDED  12/12  ████████████████████  1m 14s
└─ merge    SUCCEEDED    1/1  ████████████████████  1m 07s
`;

const FAILED_HEAD = `run 3fa28dcb1b0bd781db77ba5e  FAILED  234/238 tasks done, 4 failed
input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-11-30/invoices-2026-11.csv
         236 MiB (246,939,648 bytes), version b7Lq2Xv0Rk9sTz.4Jc8NwE1yHm6pUa3D
started  2026-12-01 09:00:00Z, took 9m 23s, ended 2026-12-01 09:09:23Z
start    start-3fa28dcb1b0bd781db77ba5e-invoices-2026-11-csv  SUCCEEDED  12s
`;
const FAILED_TAIL = `
failed
  process: 3 of 236 tasks failed
    task 17   exit 1        Essential container in task exited (3 attempts)
      batch-pipeline logs 3fa28dcb1b0bd781db77ba5e --stack dev --step process --task 17
    task 42   exit 137      OutOfMemoryError: Container killed due to memory usage (3 attempts)
      batch-pipeline logs 3fa28dcb1b0bd781db77ba5e --stack dev --step process --task 42
    task 118  no exit code  Host EC2 (instance i-0c1d2e3f4a5b6c7d8) terminated. (3 attempts)
      batch-pipeline logs 3fa28dcb1b0bd781db77ba5e --stack dev --step process --task 118
  merge: Dependent Job failed (never ran)
`;
const FAILED = `${FAILED_HEAD}
├─ prepare  SUCCEEDED      1/1  ████████████████████  1m 07s
├─ process  FAILED     233/236  ███████████████████✗  6m 57s
│           3 failed
└─ merge    FAILED         0/1  ✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗
${FAILED_TAIL}`;

const IN_PROGRESS_TTY = `run 65cc43dcc8ec0bb29de29f4a  RUNNING  13,741/100,002 tasks done
input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/clickstream-eu.parquet
         98 GiB (104,857,600,000 bytes), version 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY
started  2026-12-01 11:46:00Z, 14m 00s ago
start    start-65cc43dcc8ec0bb29de29f4a-clickstream-eu-parquet  SUCCEEDED  13s

├─ prepare  SUCCEEDED             1/1  ██████████████████████████████  1m 07s
├─ process  RUNNING    13,740/100,000  ████▒·························  11m 36s
│  │        1,468 running · 84,792 runnable
│  ├─ p0       tasks 0–9,999        SUCCEEDED  10,000/10,000
│  ├─ p1       tasks 10,000–19,999  RUNNING    3,740/10,000   1,468 running · 4,792 runnable
│  └─ p2 … p9  tasks 20,000–99,999  WAITING    0/80,000       80,000 runnable
└─ merge    WAITING               0/1  ······························
`;

const FAILED_TTY = `${FAILED_HEAD}
├─ prepare  SUCCEEDED      1/1  ██████████████████████████████  1m 07s
├─ process  FAILED     233/236  █████████████████████████████✗  6m 57s
│           3 failed
└─ merge    FAILED         0/1  ✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗✗
${FAILED_TAIL}`;

describe("status, plain (not a TTY: no colour, no cursor codes, 80 columns)", () => {
  it("shows a run in progress: each step's progress, its array jobs (equal neighbours folded), exit 0", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout, stderr } = await cli(["status", runs.inProgress], ctx);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toBe(IN_PROGRESS);
    expect(stdout).not.toMatch(ESCAPES);
    expect(Math.max(...stdout.split("\n").map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it("shows a finished run with its two start jobs and the earlier attempt's replaced jobs, exit 0", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout } = await cli(["status", runs.succeeded], ctx);
    expect(code).toBe(0);
    expect(stdout).toBe(SUCCEEDED);
  });

  it("shows a failed run's failed tasks with reason, exit code and log command, and its never-run dependent; exit 1", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout } = await cli(["status", runs.failed], ctx);
    expect(code).toBe(1);
    expect(stdout).toBe(FAILED);
  });

  it("makes 3 Batch calls for a 100,000-task run, and 2 more per array job with failed tasks", async () => {
    const { ctx, runs } = await demo();
    await cli(["status", runs.inProgress], ctx);
    expect(account().countSince()).toEqual({ ListJobs: 2, DescribeJobs: 1 });
    // ListJobs' JOB_NAME filter: prefix matches with a trailing `*` (ListJobs API reference).
    expect(account().calls.filter((c) => c.command === "ListJobs").map((c) => c.input)).toEqual([
      { jobQueue: OUTPUTS.startQueueArn, filters: [{ name: "JOB_NAME", values: [`start-${runs.inProgress}*`] }] },
      { jobQueue: OUTPUTS.processQueueArn, filters: [{ name: "JOB_NAME", values: [`${runs.inProgress}-*`] }] },
    ]);
    const from = account().calls.length;
    await cli(["status", runs.failed], ctx);
    expect(account().countSince(from)).toEqual({ ListJobs: 3, DescribeJobs: 2 });
    // Children are listed per status, only by arrayJobId (ListJobs API reference).
    const children = account().calls.slice(from).filter((c) => c.command === "ListJobs" && "arrayJobId" in c.input);
    expect(children.map((c) => (c.input as ListJobsCommandInput).jobStatus)).toEqual(["FAILED"]);
    expect((account().calls.at(-1)!.input as { jobs: string[] }).jobs).toEqual([17, 42, 118].map((i) => `${(children[0]!.input as ListJobsCommandInput).arrayJobId}:${i}`));
  });
});

describe("status on a TTY (colours, wider bars; still no cursor codes)", () => {
  it.each([
    ["a run in progress", "inProgress", IN_PROGRESS_TTY, 0],
    ["a finished run", "succeeded", SUCCEEDED.replace(/█{20}/g, "█".repeat(30)), 0],
    ["a failed run", "failed", FAILED_TTY, 1],
  ] as const)("shows %s", async (_what, which, text, exit) => {
    const { ctx, runs } = await demo({ isTTY: true, columns: 100 });
    const { code, stdout } = await cli(["status", runs[which]], ctx);
    expect(code).toBe(exit);
    expect(stdout.replace(ESCAPES, "")).toBe(text);
    expect(stdout).not.toMatch(/\x1b\[[0-9;?]*[A-Za-ln-z]/); // colour (…m) only
  });

  it("colours states, bars and the failure heading", async () => {
    const { ctx, runs } = await demo({ isTTY: true, columns: 100 });
    const { stdout } = await cli(["status", runs.failed], ctx);
    expect(stdout).toContain(`\x1b[1mrun ${runs.failed}\x1b[22m  \x1b[31mFAILED\x1b[39m`);
    expect(stdout).toContain(`\x1b[32m${"█".repeat(29)}\x1b[39m\x1b[31m✗\x1b[39m`);
    expect(stdout).toContain("\x1b[1m\x1b[31mfailed\x1b[39m\x1b[22m");
    expect(stdout).toContain("\x1b[32mSUCCEEDED\x1b[39m");
  });
});

describe("status --json", () => {
  it("prints one JSON document: the snapshot and each failure with its first failed tasks and log commands", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout } = await cli(["status", runs.failed, "--json"], ctx);
    expect(code).toBe(1);
    const doc = JSON.parse(stdout);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(doc).toMatchObject({ runId: runs.failed, state: "FAILED", input: { key: "incoming/2026-11-30/invoices-2026-11.csv", sizeBytes: 246_939_648 }, calls: 3 });
    expect(doc.steps.map((s: { name: string; counts: object }) => [s.name, s.counts])).toEqual([
      ["prepare", expect.objectContaining({ SUCCEEDED: 1 })],
      ["process", expect.objectContaining({ SUCCEEDED: 233, FAILED: 3 })],
      ["merge", expect.objectContaining({ FAILED: 1 })],
    ]);
    expect(doc.failures).toHaveLength(2);
    expect(doc.failures[0]).toMatchObject({ step: "process", status: "FAILED", statusReason: "Array Child Job failed", failedTasks: 3 });
    expect(doc.failures[0].children.map((c: { task: number; exitCode?: number; attempts: number; logs: string }) => [c.task, c.exitCode, c.attempts, c.logs])).toEqual([
      [17, 1, 3, `batch-pipeline logs ${runs.failed} --stack dev --step process --task 17`],
      [42, 137, 3, `batch-pipeline logs ${runs.failed} --stack dev --step process --task 42`],
      [118, undefined, 3, `batch-pipeline logs ${runs.failed} --stack dev --step process --task 118`],
    ]);
    expect(doc.failures[1]).toEqual({ jobId: expect.any(String), jobName: `${runs.failed}-merge`, step: "merge", kind: "task", status: "FAILED", statusReason: "Dependent Job failed", failedTasks: 1, children: [] });
  });
});

describe("status of other runs", () => {
  it("lists failed tasks of an array job that is still running, with task numbers offset by its position in the step", async () => {
    const { ctx } = await demo();
    const fail = { 10_001: { reason: "Essential container in task exited", exitCode: 2 }, 10_002: { reason: "Essential container in task exited", exitCode: 2 } };
    const runId = await account().addRun({ key: "incoming/2026-12-01/clickstream-us.parquet", sizeBytes: 104_857_600_000, at: -14 * M, timing: { process: { fail, taskMs: (n) => (n in fail ? 5_000 : 45_000 + (n % 30) * 1_000) } } });
    const { code, stdout } = await cli(["status", runId], ctx);
    expect(code).toBe(0);
    expect(stdout).toContain("├─ process  RUNNING    13,759/100,000  ██✗▒················  11m 36s\n│  │        1,600 running · 2 failed · 84,639 runnable\n");
    expect(stdout).toContain("│  ├─ p1       tasks 10,000–19,999  RUNNING    3,759/10,000   1,600 running · 2 failed · 4,639 runnable\n");
    expect(stdout.slice(stdout.indexOf("\nfailed\n"))).toBe(`
failed
  process-p1 (tasks 10,000–19,999): 2 of 10,000 tasks failed
    task 10,001  exit 2  Essential container in task exited (3 attempts)
      batch-pipeline logs ${runId} --stack dev --step process --task 10001
    task 10,002  exit 2  Essential container in task exited (3 attempts)
      batch-pipeline logs ${runId} --stack dev --step process --task 10002
`);
  });

  it(`lists failed children of the first ${FAILED_ARRAYS_LISTED} failing array jobs only, and says how to list the others`, async () => {
    const { ctx } = await demo();
    const fail = Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((k) => [k * 10_000 + 5, { reason: "Essential container in task exited", exitCode: 1, attempts: 1 }]));
    const runId = await account().addRun({ key: "incoming/wide.parquet", sizeBytes: 104_857_600_000, at: -3 * 60 * M, timing: { process: { fail, slots: 20_000 } } });
    const from = account().calls.length;
    const { code, stdout } = await cli(["status", runId], ctx);
    expect(code).toBe(1);
    const childListings = account().calls.slice(from).filter((c) => c.command === "ListJobs" && "arrayJobId" in c.input);
    expect(childListings).toHaveLength(FAILED_ARRAYS_LISTED);
    expect(stdout).toContain(`  process-p4 (tasks 40,000–49,999): 1 of 10,000 tasks failed\n    task 40,005  exit 1  Essential container in task exited\n`);
    expect(stdout).toMatch(/  process-p5 \(tasks 50,000–59,999\): 1 of 10,000 tasks failed\n    … 1 failed: aws batch list-jobs --array-job-id [0-9a-f-]{36} --job-status FAILED\n/);
  });

  it("shows a start job that failed before submitting anything, with its log command; exit 1", async () => {
    const { ctx } = await demo();
    const runId = await account().addRun({ key: "incoming/bad.csv", sizeBytes: 10, at: -10 * M, startFails: { reason: "Essential container in task exited", exitCode: 2, attempts: 1 } });
    const { code, stdout } = await cli(["status", runId], ctx);
    expect(code).toBe(1);
    expect(stdout).toBe(`run ${runId}  FAILED
input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/bad.csv
         10 B (10 bytes), unversioned
started  2026-12-01 11:50:00Z, took 35s, ended 2026-12-01 11:50:35Z
start    start-${runId}-bad-csv  FAILED  15s

no DAG jobs: the start job submitted none

failed
  start job start-${runId}-bad-csv: exit 2  Essential container in task exited
    batch-pipeline logs ${runId} --stack dev --step start
`);
  });

  it("shows a run the trigger submitted inline (no start job): its input from a task's environment, escaped, and no start line; exit 0", async () => {
    const { ctx } = await demo();
    const runId = await account().addRun({ key: "incoming/inline\u202e.csv", sizeBytes: 5 * 1_048_576, versionId: "v9", at: -3 * M, inline: true });
    const { code, stdout } = await cli(["status", runId], ctx);
    expect(code).toBe(0);
    expect(stdout).toBe(`run ${runId}  RUNNING  3/7 tasks done
input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/inline\\u202e.csv
         5.0 MiB (5,242,880 bytes), version v9
started  2026-12-01 11:57:00Z, 3m 00s ago

├─ prepare  SUCCEEDED  1/1  ████████████████████  1m 07s
├─ process  RUNNING    2/5  ████████▒▒▒▒▒▒▒▒▒▒▒▒  1m 04s
│           3 running
└─ merge    WAITING    0/1  ····················
`);
    const listed = account().calls.filter((c) => c.command === "ListJobs").map((c) => (c.input as { jobQueue?: string }).jobQueue);
    expect(listed.sort()).toEqual([OUTPUTS.startQueueArn, OUTPUTS.processQueueArn].sort());
  });

  it("says what to do about a run Batch does not list (unknown, or older than Batch keeps jobs); exit 2", async () => {
    const { ctx } = await demo();
    const old = await account().addRun({ key: "incoming/old.csv", sizeBytes: 10_000, at: -3 * 24 * 60 * M });
    for (const runId of ["0123456789abcdef01234567", old]) {
      const before = ctx.stderr().length;
      const { code, stdout, stderr } = await cli(["status", runId], ctx);
      expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
      expect(stderr.slice(before)).toBe(
        `error: no jobs of run ${runId} on ${OUTPUTS.startQueueArn} or ${OUTPUTS.processQueueArn}: the run id is wrong, or the run ended too long ago (Batch lists a finished job only for a limited time, which AWS does not document (possibly as little as 24 hours)); its job states stay in CloudWatch Logs group ${OUTPUTS.jobStateLogGroup} (Logs Insights: filter detail.jobName like "${runId}")\n`,
      );
    }
  });

  it("refuses a malformed run id before calling AWS", async () => {
    const { ctx } = await demo();
    const { code, stderr } = await cli(["status", "not-a-run"], ctx);
    expect(code).toBe(2);
    expect(stderr).toBe("error: `not-a-run` is not a run id: run ids are 24 lowercase hex characters, as `batch-pipeline submit` and `batch-pipeline runs` print them\n");
    expect(account().mock.commandCalls(ListJobsCommand)).toHaveLength(0);
  });
});
