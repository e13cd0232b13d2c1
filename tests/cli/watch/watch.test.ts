/**
 * `batch-pipeline watch RUN` against the demo account, whose runs progress as the fake clock moves with
 * each sleep: the outcome as exit code, Ctrl-C, plain lines per change, TTY redraws, JSON lines, waiting
 * for a run to appear, failed polls, and the Batch call budget (DescribeJobs shares about 50 calls/s with
 * SubmitJob, docs/aws-batch-limits.md; ListJobs is eventually consistent, so listing goes on until
 * LISTING_SETTLE_MS after the start job ended).
 */
import { BatchServiceException } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { DEFAULT_INTERVAL_SECONDS, MAX_FAILED_POLLS } from "../../../cli/runModel/follow";
import { LISTING_SETTLE_MS } from "../../../cli/runModel/model";
import { type DemoAccount, demoPerTest } from "../demoAccount";
import { cli, cliContext, OUTPUTS } from "../support";

const M = 60_000;
const { demo, account } = demoPerTest();

const serverError = () => new BatchServiceException({ name: "ServerException", $fault: "server", $metadata: { httpStatusCode: 500 }, message: "Internal Server Error" });
/** A small run that lands 40 s after the epoch and succeeds about 5 minutes later. */
const freshRun = () => account().addRun({ key: "incoming/2026-12-01/new.csv", sizeBytes: 5 * 1_048_576, at: 40_000 });

describe("watch, plain (not a TTY)", () => {
  it("follows a 100,000-task run to SUCCEEDED: a line per change, a summary with the polls and calls; exit 0", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout, stderr } = await cli(["watch", runs.inProgress], ctx);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const lines = stdout.trimEnd().split("\n");
    expect(lines.slice(0, 7).join("\n")).toBe(`2026-12-01 12:00:00Z  run      RUNNING    ${runs.inProgress} s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/clickstream-eu.parquet
2026-12-01 12:00:00Z  start    SUCCEEDED  start-${runs.inProgress}-clickstream-eu-parquet
2026-12-01 12:00:00Z  prepare  SUCCEEDED  1/1 done
2026-12-01 12:00:00Z  process  RUNNING    13,740/100,000 done  1,468 running · 84,792 runnable
2026-12-01 12:00:00Z  merge    WAITING    0/1 done
2026-12-01 12:00:15Z  process  RUNNING    14,182/100,000 done  1,506 running · 84,312 runnable
2026-12-01 12:00:30Z  process  RUNNING    14,375/100,000 done  1,567 running · 84,058 runnable`);
    expect(lines.slice(-6).join("\n")).toBe(`2026-12-01 13:13:30Z  process  RUNNING    99,999/100,000 done  1 running
2026-12-01 13:13:45Z  process  SUCCEEDED  100,000/100,000 done
2026-12-01 13:13:45Z  merge    RUNNING    0/1 done
2026-12-01 13:15:15Z  merge    SUCCEEDED  1/1 done
2026-12-01 13:15:15Z  run      SUCCEEDED  ${runs.inProgress}
run ${runs.inProgress} SUCCEEDED after 1h 29m: 302 polls, 304 Batch calls`);
    expect(ctx.slept).toEqual(Array(301).fill(DEFAULT_INTERVAL_SECONDS * 1000));
    expect(account().calls).toHaveLength(304);
  });

  it("follows a run to FAILED, then lists its failed tasks with their log commands; exit 1", async () => {
    const { ctx } = await demo();
    const fail = { 120: { reason: "Essential container in task exited", exitCode: 1 } };
    const runId = await account().addRun({ key: "incoming/2026-12-01/orders-0002.csv", sizeBytes: 300 * 1_048_576, at: -3 * M, timing: { process: { slots: 100, fail } } });
    const { code, stdout } = await cli(["watch", runId, "--interval", "60"], ctx);
    expect(code).toBe(1);
    expect(stdout).toBe(`2026-12-01 12:00:00Z  run      RUNNING    ${runId} s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/orders-0002.csv
2026-12-01 12:00:00Z  start    SUCCEEDED  start-${runId}-orders-0002-csv
2026-12-01 12:00:00Z  prepare  SUCCEEDED  1/1 done
2026-12-01 12:00:00Z  process  RUNNING    0/300 done  100 running · 200 runnable
2026-12-01 12:00:00Z  merge    WAITING    0/1 done
2026-12-01 12:01:00Z  process  RUNNING    100/300 done  100 running · 100 runnable
2026-12-01 12:02:00Z  process  RUNNING    190/300 done  91 running · 19 runnable
2026-12-01 12:03:00Z  process  RUNNING    245/300 done  54 running · 1 runnable
2026-12-01 12:04:00Z  process  RUNNING    298/300 done  1 running · 1 failed
2026-12-01 12:05:00Z  process  FAILED     299/300 done  1 failed
2026-12-01 12:05:00Z  merge    FAILED     0/1 done
2026-12-01 12:05:00Z  run      FAILED     ${runId}
failed
  process: 1 of 300 tasks failed
    task 120  exit 1  Essential container in task exited (3 attempts)
      batch-pipeline logs ${runId} --stack dev --step process --task 120
  merge: Dependent Job failed (never ran)
run ${runId} FAILED after 7m 45s: 6 polls, 10 Batch calls
`);
  });

  it("stops on Ctrl-C (the sleep ends early, the signal is aborted): says the run goes on; exit 130", async () => {
    const { ctx, runs } = await demo({ abortAfterSleeps: 3 });
    const { code, stdout } = await cli(["watch", runs.inProgress], ctx);
    expect(code).toBe(130);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(`stopped watching run ${runs.inProgress} (RUNNING); the run goes on (\`batch-pipeline cancel ${runs.inProgress}\` stops it): 3 polls, 5 Batch calls`);
    expect(account().calls).toHaveLength(5);
  });
});

describe("watch's Batch budget", () => {
  it("costs 3 calls on the first poll of a 13-job, 100,000-task run, then one DescribeJobs of the unfinished jobs per poll", async () => {
    const { ctx, runs } = await demo();
    await cli(["watch", runs.inProgress], ctx);
    const polls = new Map<number, DemoAccount["calls"]>();
    for (const call of account().calls) polls.set(call.at, [...(polls.get(call.at) ?? []), call]);
    const [first, ...rest] = [...polls.values()];
    expect(first!.map((c) => c.command)).toEqual(["ListJobs", "ListJobs", "DescribeJobs"]);
    expect((first![2]!.input as { jobs: string[] }).jobs).toHaveLength(13);
    expect(rest).toHaveLength(301);
    for (const poll of rest) expect(poll.map((c) => c.command)).toEqual(["DescribeJobs"]);
    // Finished jobs are not described again: the 9 arrays not done and merge while process runs, merge alone at the end.
    expect((rest[0]![0]!.input as { jobs: string[] }).jobs).toHaveLength(10);
    expect((rest.at(-1)![0]!.input as { jobs: string[] }).jobs).toHaveLength(1);
  });

  it("lists the run's jobs until LISTING_SETTLE_MS after its start job ended (ListJobs is eventually consistent), then never again", async () => {
    const { ctx } = await demo();
    const runId = await freshRun();
    expect((await cli(["watch", runId, "--interval", "5"], ctx)).code).toBe(0);
    const watched = [...account().calls];
    const status = JSON.parse((await cli(["status", runId, "--json"], cliContext({ env: { BATCH_PIPELINE_STACK: "dev" }, now: ctx.now() }))).stdout);
    const startStopped: number = status.startJobs[0].stoppedAt;
    const listings = watched.filter((c) => c.command === "ListJobs" && "filters" in c.input).map((c) => c.at);
    const lastListing = Math.max(...listings);
    expect(lastListing).toBeGreaterThanOrEqual(startStopped + LISTING_SETTLE_MS);
    expect(lastListing - 5_000).toBeLessThan(startStopped + LISTING_SETTLE_MS);
    expect(watched.filter((c) => c.at > lastListing).every((c) => c.command === "DescribeJobs")).toBe(true);
  });

  it("with orchestrator.wait (the start job lives as long as the run) costs 2 calls per poll: the process queue listed, the unfinished jobs described", async () => {
    const { ctx } = await demo();
    const runId = await account().addRun({ key: "incoming/2026-12-01/waited.csv", sizeBytes: 5 * 1_048_576, at: -2 * M, wait: true });
    const { code, stdout } = await cli(["watch", runId], ctx);
    expect(code).toBe(0);
    const polls = new Map<number, DemoAccount["calls"]>();
    for (const call of account().calls) polls.set(call.at, [...(polls.get(call.at) ?? []), call]);
    const queues = [...polls.values()].map((poll) => poll.map((c) => (c.command === "ListJobs" ? `ListJobs ${(c.input as { jobQueue: string }).jobQueue === OUTPUTS.startQueueArn ? "start" : "process"}` : c.command)));
    const [first, ...rest] = queues;
    const last = rest.pop();
    expect(first).toEqual(["ListJobs start", "ListJobs process", "DescribeJobs"]);
    expect(rest).toHaveLength(13);
    for (const poll of rest) expect(poll).toEqual(["ListJobs process", "DescribeJobs"]);
    // The poll that sees the start job stop lists the start queue again: a namesake start job may own the run now.
    expect(last).toEqual(["ListJobs process", "DescribeJobs", "ListJobs start"]);
    // 3 + 13 × 2 + 3 (3 a poll, 45 calls, before the start queue was skipped while its job lives).
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(`run ${runId} SUCCEEDED after 5m 09s: 15 polls, 32 Batch calls`);
  });
});

describe("watch waits for a run to appear", () => {
  it("looks again every interval while the trigger has not started the run yet, then follows it", async () => {
    const { ctx } = await demo();
    const runId = await freshRun();
    const { code, stdout, stderr } = await cli(["watch", runId, "--interval", "5"], ctx);
    expect(code).toBe(0);
    expect(stderr).toBe(`run ${runId} has no jobs yet; looking again every 5s for up to 120s (the trigger starts runs asynchronously)\n`);
    // Created at +40 s, listed 3 s later: found on the poll at +45 s.
    expect(stdout.split("\n")[0]).toBe(`2026-12-01 12:00:45Z  run    SUBMITTING  ${runId} s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/new.csv`);
    // Found at +45 s, its start job live until +72 s: the 5 polls in between list only the process queue.
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(`run ${runId} SUCCEEDED after 5m 09s: 71 polls, 113 Batch calls`);
  });

  it("follows a run the trigger submitted inline (no start job ever): found by its DAG's jobs, listed on every poll", async () => {
    const { ctx } = await demo();
    const runId = await account().addRun({ key: "incoming/2026-12-01/new.csv", sizeBytes: 5 * 1_048_576, at: 40_000, inline: true });
    const { code, stdout, stderr } = await cli(["watch", runId, "--interval", "5"], ctx);
    expect({ code, stderr }).toEqual({ code: 0, stderr: `run ${runId} has no jobs yet; looking again every 5s for up to 120s (the trigger starts runs asynchronously)\n` });
    const lines = stdout.trimEnd().split("\n");
    // Created at +40 s, listed 3 s later: found on the poll at +45 s, its input read from a task (no start job).
    expect(lines[0]).toBe(`2026-12-01 12:00:45Z  run      WAITING    ${runId} s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/2026-12-01/new.csv`);
    expect(lines.filter((l) => / start /.test(l))).toEqual([]);
    expect(lines.slice(-2)).toEqual([`2026-12-01 12:05:25Z  run      SUCCEEDED  ${runId}`, `run ${runId} SUCCEEDED after 4m 41s: 66 polls, 133 Batch calls`]);
    // 9 looks before it is listed (both queues: 18 calls), the first read (3), then 56 polls of 2: the process
    // queue listed every time (no start job says when the DAG is complete), never the start queue again.
    const startQueue = account().calls.filter((c) => c.command === "ListJobs" && (c.input as { jobQueue?: string }).jobQueue === OUTPUTS.startQueueArn);
    expect(startQueue).toHaveLength(10);
    expect(account().countSince(0)).toEqual({ ListJobs: 76, DescribeJobs: 57 });
  });

  it("gives up after --appear-timeout (default 120 s) with the unknown-run error; exit 2", async () => {
    const { ctx } = await demo();
    const { code, stdout, stderr } = await cli(["watch", "0123456789abcdef01234567"], ctx);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(ctx.slept).toEqual(Array(8).fill(15_000));
    const [waiting, error] = stderr.trimEnd().split("\n");
    expect(waiting).toBe("run 0123456789abcdef01234567 has no jobs yet; looking again every 15s for up to 120s (the trigger starts runs asynchronously)");
    expect(error).toMatch(/^error: no jobs of run 0123456789abcdef01234567 on /);
  });

  it("with --appear-timeout 0, fails at once", async () => {
    const { ctx } = await demo();
    const { code } = await cli(["watch", "0123456789abcdef01234567", "--appear-timeout", "0"], ctx);
    expect({ code, slept: ctx.slept }).toEqual({ code: 2, slept: [] });
  });
});

describe("watch on a TTY", () => {
  it("redraws the screen in place: hides the cursor, moves up over the last drawing, clears each line and the rest, shows the cursor", async () => {
    const { ctx } = await demo({ isTTY: true, columns: 100 });
    const runId = await freshRun();
    const { code, stdout } = await cli(["watch", runId, "--interval", "15"], ctx);
    expect(code).toBe(0);
    expect(stdout.startsWith("\x1b[?25l")).toBe(true);
    expect(stdout.endsWith("\x1b[J\x1b[?25h")).toBe(true);
    const frames = stdout.slice("\x1b[?25l".length, -"\x1b[?25h".length).split("\x1b[J");
    frames.pop();
    expect(frames.length).toBeGreaterThan(10);
    frames.forEach((frame, k) => {
      const up = /^\x1b\[(\d+)F/.exec(frame);
      const lines = frame.replace(/^\x1b\[\d+F/, "").split("\n").slice(0, -1);
      if (k > 0) expect(Number(up?.[1])).toBe(frames[k - 1]!.replace(/^\x1b\[\d+F/, "").split("\n").length - 1);
      for (const line of lines) {
        expect(line.endsWith("\x1b[K")).toBe(true);
        expect(line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").length).toBeLessThan(100);
      }
    });
    const last = frames.at(-1)!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    expect(last).toContain(`run ${runId} SUCCEEDED after 5m 09s:`);
    // Found on the 4th poll (created at +40 s, listed from +43 s): the first three found nothing.
    expect(frames[0]).toContain("every 15s: 4 polls, 9 Batch calls · Ctrl-C stops watching, not the run");
  });

  it("cuts lines to the terminal's width so a redraw never wraps, and shows the cursor again on Ctrl-C", async () => {
    const { ctx, runs } = await demo({ isTTY: true, columns: 60, abortAfterSleeps: 1 });
    const { code, stdout } = await cli(["watch", runs.inProgress], ctx);
    expect(code).toBe(130);
    const lines = stdout.split("\n").map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ""));
    expect(lines).toContain("input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/inco…");
    expect(Math.max(...lines.slice(0, -2).map((l) => l.length))).toBe(59); // never the last column: some terminals wrap there
    expect(stdout.endsWith("\x1b[?25h")).toBe(true);
  });
});

describe("watch --json", () => {
  it("prints one JSON line per poll that changed something, with that poll's Batch calls, and one at the end", async () => {
    const { ctx, runs } = await demo();
    const { code, stdout } = await cli(["watch", runs.inProgress, "--json"], ctx);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event: "poll", at: "2026-12-01T12:00:00.000Z", runId: runs.inProgress, poll: 1, calls: 3, state: "RUNNING" });
    expect(lines[0].steps.map((s: { step: string; done: number; width: number }) => [s.step, s.done, s.width])).toEqual([["prepare", 1, 1], ["process", 13_740, 100_000], ["merge", 0, 1]]);
    expect(lines[1]).toMatchObject({ event: "poll", poll: 2, calls: 1, startJobs: [], steps: [{ step: "process", state: "RUNNING", done: 14_182 }] });
    expect(lines.at(-1)).toEqual({ event: "end", at: "2026-12-01T13:15:15.000Z", runId: runs.inProgress, state: "SUCCEEDED", exitCode: 0, polls: 302, calls: 304, failures: [] });
  });
});

describe("watch's own errors", () => {
  it.each([
    [["--interval", "2"], "error: --interval 2: must be at least 5 seconds (Batch's DescribeJobs shares the account's ~50 calls/s with SubmitJob); pass --interval 5 or more\n"],
    [["--interval", "soon"], "error: --interval soon: must be a number of seconds, e.g. --interval 30\n"],
    [["--appear-timeout", "-1"], "error: --appear-timeout -1: must be a number of seconds, e.g. --appear-timeout 30\n"],
  ])("refuses %j before calling AWS; exit 2", async (flags, message) => {
    const { ctx, runs } = await demo();
    const { code, stderr } = await cli(["watch", runs.inProgress, ...flags], ctx);
    expect({ code, stderr }).toEqual({ code: 2, stderr: message });
    expect(account().calls).toHaveLength(0);
  });

  it("tries a failed poll again (a 5xx) and goes on", async () => {
    const { ctx, runs } = await demo({ abortAfterSleeps: 3 });
    account().model.failNext("DescribeJobs", { error: serverError });
    const { code, stderr } = await cli(["watch", runs.inProgress], ctx);
    expect(code).toBe(130);
    expect(stderr).toBe("poll 1 failed (Batch ListJobs/DescribeJobs failed: ServerException: Internal Server Error); trying again in 15s\n");
  });

  it(`gives up after ${MAX_FAILED_POLLS} failed polls in a row; exit 3`, async () => {
    const { ctx, runs } = await demo();
    account().model.failNext("DescribeJobs", { error: serverError, times: MAX_FAILED_POLLS });
    const { code, stderr } = await cli(["watch", runs.inProgress], ctx);
    expect(code).toBe(3);
    expect(stderr.trimEnd().split("\n")).toHaveLength(MAX_FAILED_POLLS);
    expect(stderr.trimEnd().split("\n").at(-1)).toBe("error: Batch ListJobs/DescribeJobs failed: ServerException: Internal Server Error");
  });

  it("does not retry what retrying cannot fix (access denied); exit 3", async () => {
    const { ctx, runs } = await demo();
    account().model.failNext("ListJobs", { error: new BatchServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 403 }, message: "not authorized to perform: batch:ListJobs" }) });
    const { code, stderr } = await cli(["watch", runs.inProgress], ctx);
    expect({ code, slept: ctx.slept }).toEqual({ code: 3, slept: [] });
    expect(stderr).toBe("error: AWS denied Batch ListJobs/DescribeJobs: not authorized to perform: batch:ListJobs (give your identity this permission, or use another AWS_PROFILE)\n");
  });
});
