/**
 * `batch-pipeline logs`: which streams a run's lines come from (each started attempt of each job and child,
 * in its definition's log group), how they are read, prefixes, --step/--task, jobs not started, --json, --follow
 * (streams that do not exist, and what --follow costs a poll: tests/cli/logs/streams.test.ts).
 *
 * CloudWatch Logs is the fake of tests/cli/cloudWatchLogsFake.ts (FilterLogEvents as documented, worst case).
 */
import { DescribeJobsCommand, ListJobsCommand } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { colors } from "../../../cli/app/context";
import type { FakeRunSpec } from "../batchRunFake";
import { logsFixture } from "./fixture";
import { cli, cliContext, OUTPUTS, type TestContext } from "../support";

const { batch, logs, current, streamOf, filterInputs } = logsFixture();
const RUN = "0123456789abcdef01234567";
const T0 = Date.parse("2026-12-01T11:01:00Z");
const PROCESS_GROUP = OUTPUTS.logGroupNames.process!;
const START_GROUP = OUTPUTS.logGroupNames.start!;


/** A finished run: start job, prepare, 3 process tasks (one array), merge; each wrote a line or two. */
function finishedRun(spec: Partial<FakeRunSpec> = {}) {
  current.fake.addRun({
    runId: RUN,
    start: "SUCCEEDED",
    steps: [
      { name: "prepare", width: 1, status: () => "SUCCEEDED" },
      { name: "process", width: 3, status: () => "SUCCEEDED" },
      { name: "merge", width: 1, status: () => "SUCCEEDED" },
    ],
    ...spec,
  });
  const group = (g: string) => (spec.logGroupOption ? `/custom/${g}` : g === "start" ? START_GROUP : PROCESS_GROUP);
  current.store
    .put(group("start"), streamOf("start-012345"), T0, "planned 4 jobs for s3://bucket/incoming/data.csv")
    .put(group("process"), streamOf("prepare-012345-0"), T0 + 1000, "prepared 3 chunks")
    .put(group("process"), streamOf("process-012345-0:2"), T0 + 2000, "chunk 2 done")
    .put(group("process"), streamOf("process-012345-0:0"), T0 + 3000, "chunk 0 done\nwith a second line")
    .put(group("start"), streamOf("start-012345"), T0 + 3500, "DAG submitted")
    .put(group("process"), streamOf("process-012345-0:1"), T0 + 4000, "chunk 1 done")
    .put(group("process"), streamOf("merge-012345-0"), T0 + 5000, "merged 3 chunks");
}

const FINISHED_OUTPUT = `start       planned 4 jobs for s3://bucket/incoming/data.csv
prepare     prepared 3 chunks
process[2]  chunk 2 done
process[0]  chunk 0 done
process[0]  with a second line
start       DAG submitted
process[1]  chunk 1 done
merge       merged 3 chunks
`;

describe("logs of a finished run", () => {
  it("interleaves every job's and child's lines by time, prefixed by step and task, from each definition's log group", async () => {
    finishedRun();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN]);
    expect(code).toBe(0);
    expect(stdout).toBe(FINISHED_OUTPUT);
    expect(stderr).toBe("");
    const startTime = current.fake.find("start-012345")!.createdAt; // the run's start
    expect(filterInputs()).toEqual([
      { logGroupName: START_GROUP, logStreamNames: [streamOf("start-012345")], startTime },
      { logGroupName: PROCESS_GROUP, logStreamNames: [streamOf("prepare-012345-0"), streamOf("merge-012345-0"), ...[0, 1, 2].map((i) => streamOf(`process-012345-0:${i}`))], startTime },
    ]);
    // Children are listed one status at a time (ListJobs API reference) and described once.
    const childLists = batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input).filter((i) => i.arrayJobId);
    expect(childLists.map((i) => i.jobStatus)).toEqual(["RUNNING", "SUCCEEDED", "FAILED"]);
  });

  it("on a TTY colours each step's prefix its own colour", async () => {
    finishedRun();
    const ctx = cliContext({ isTTY: true });
    ctx.term.color = colors(true);
    const { stdout } = await cli(["--stack", "dev", "logs", RUN], ctx);
    expect(stdout.split("\n")[0]).toBe("\x1b[36mstart     \x1b[39m  planned 4 jobs for s3://bucket/incoming/data.csv");
    expect(stdout.split("\n")[1]).toBe("\x1b[35mprepare   \x1b[39m  prepared 3 chunks");
    expect(stdout.split("\n")[2]).toBe("\x1b[33mprocess[2]\x1b[39m  chunk 2 done");
  });

  it("--json prints JSON lines {time, step, task, jobId, message}", async () => {
    finishedRun();
    const { code, stdout } = await cli(["--stack", "dev", "logs", RUN, "--json"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ time: "2026-12-01T11:01:00.000Z", step: "start", task: null, jobId: "start-012345", message: "planned 4 jobs for s3://bucket/incoming/data.csv" });
    expect(lines[3]).toEqual({ time: "2026-12-01T11:01:03.000Z", step: "process", task: 0, jobId: "process-012345-0:0", message: "chunk 0 done\nwith a second line" });
    expect(lines).toHaveLength(7);
  });

  it("uses a job's own awslogs-group when its definition sets one", async () => {
    finishedRun({ logGroupOption: true });
    const { code, stdout } = await cli(["--stack", "dev", "logs", RUN]);
    expect([code, stdout]).toEqual([0, FINISHED_OUTPUT]);
    expect(filterInputs().map((i) => i.logGroupName)).toEqual(["/custom/start", "/custom/process"]);
  });

  it("--since 1h reads from an hour before now", async () => {
    finishedRun();
    const ctx = cliContext();
    await cli(["--stack", "dev", "logs", RUN, "--since", "1h"], ctx);
    expect(new Set(filterInputs().map((i) => i.startTime))).toEqual(new Set([ctx.now() - 3_600_000]));
  });

  it("reads every stream of a retried task (one per attempt)", async () => {
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 2, status: () => "SUCCEEDED", attempts: (t) => (t === 1 ? 2 : 1) }] });
    current.store.put(PROCESS_GROUP, streamOf("process-012345-0:1", 0), T0, "attempt 1: host terminated").put(PROCESS_GROUP, streamOf("process-012345-0:1", 1), T0 + 60_000, "attempt 2: done");
    const { stdout } = await cli(["--stack", "dev", "logs", RUN]);
    expect(stdout).toBe("process[1]  attempt 1: host terminated\nprocess[1]  attempt 2: done\n");
  });
});

describe("logs of a wide step", () => {
  // FilterLogEvents: logStreamNames 1 to 100; pages partly full or empty while a nextToken says more.
  it("asks for at most 100 streams a call, reads every page (an empty first one included), backs off when throttled", async () => {
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 250, status: () => "SUCCEEDED" }] });
    for (let i = 0; i < 250; i++) current.store.put(PROCESS_GROUP, streamOf(`process-012345-0:${i}`), T0 + i, `task ${i}`);
    Object.assign(current.store, { pageSize: 40, emptyFirstPage: true, throttle: 2 });
    const ctx = cliContext();
    const { code, stdout } = await cli(["--stack", "dev", "logs", RUN, "--step", "process"], ctx);
    expect(code).toBe(0);
    // Throttled twice (5 calls/s per account and region, CloudWatch Logs quotas): retried after 1 s, then 2 s.
    expect(ctx.slept).toEqual([1000, 2000]);
    const pages = (streams: number, tokens: (string | undefined)[]) => tokens.map((t) => [streams, t]);
    expect(filterInputs().slice(2).map((c) => [c.logStreamNames!.length, c.nextToken])).toEqual([
      ...pages(100, [undefined, "p0", "p40", "p80"]), ...pages(100, [undefined, "p0", "p40", "p80"]), ...pages(50, [undefined, "p0", "p40"]),
    ]);
    expect(stdout.trimEnd().split("\n")).toEqual(Array.from({ length: 250 }, (_, i) => `${`process[${i}]`.padEnd(13)} task ${i}`));
  });
});

describe("logs --step / --task", () => {
  function wideRun() {
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 30, chunk: 10, status: () => "SUCCEEDED" }, { name: "merge", width: 1, status: () => "SUCCEEDED" }] });
    current.store.put(PROCESS_GROUP, streamOf("process-012345-1:7"), T0, "task 17 here").put(PROCESS_GROUP, streamOf("process-012345-1:6"), T0, "task 16 here");
  }

  it("--task N reads the one child that runs task N of the step (chunk [10, 20), index 7), described by id, no listing", async () => {
    wideRun();
    const { code, stdout } = await cli(["--stack", "dev", "logs", RUN, "--step", "process", "--task", "17"]);
    expect(code).toBe(0);
    expect(stdout).toBe("process[17]  task 17 here\n");
    expect(batch.commandCalls(ListJobsCommand).filter((c) => c.args[0].input.arrayJobId)).toHaveLength(0);
    expect(batch.commandCalls(DescribeJobsCommand).at(-1)!.args[0].input).toEqual({ jobs: ["process-012345-1:7"] });
    expect(filterInputs()).toEqual([{ logGroupName: PROCESS_GROUP, logStreamNames: [streamOf("process-012345-1:7")], startTime: current.fake.find("start-012345")!.createdAt }]);
  });

  it.each([
    [["--step", "nope"], `error: run ${RUN} has no step \`nope\`; its steps: start, process, merge`],
    [["--task", "3"], "error: --task 3 needs --step: task numbers count within a step"],
    [["--step", "process", "--task", "30"], `error: step \`process\` of run ${RUN} has tasks 0 to 29, not 30`],
    [["--step", "process", "--task", "x"], "error: --task x: must be a task number (0, 1, …)"],
    [["--since", "yesterday"], "error: --since yesterday: must be a duration such as 90m, 24h or 7d"],
  ])("%j is refused (exit 2)", async (flags, message) => {
    wideRun();
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN, ...flags]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`${message}\n`);
  });

  it("an unknown run is the unknown-run error (exit 2)", async () => {
    const { code, stderr } = await cli(["--stack", "dev", "logs", RUN]);
    expect(code).toBe(2);
    expect(stderr).toContain(`error: no jobs of run ${RUN} on ${OUTPUTS.startQueueArn} or ${OUTPUTS.processQueueArn}`);
    expect(logs.calls()).toHaveLength(0);
  });
});

describe("logs of jobs that have not started", () => {
  it("says so on stderr once per step, not per task", async () => {
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 30, status: (t) => (t < 3 ? "RUNNING" : "RUNNABLE") }, { name: "merge", width: 1, status: () => "PENDING" }] });
    current.store.put(PROCESS_GROUP, streamOf("process-012345-0:1"), T0, "working on chunk 1");
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN]);
    expect(code).toBe(0);
    expect(stdout).toBe("process[1]   working on chunk 1\n");
    expect(stderr).toBe("process: 27 of 30 tasks have not started yet: no log streams for them yet\nmerge has not started yet (PENDING): no log stream yet\n");
  });

  it("--task of a child not started yet says so", async () => {
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 30, status: (t) => (t < 3 ? "RUNNING" : "RUNNABLE") }] });
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN, "--step", "process", "--task", "12"]);
    expect([code, stdout, stderr]).toEqual([0, "", "process[12] has not started yet (RUNNABLE): no log stream yet\n"]);
  });
});

describe("logs --follow", () => {
  /** A run under way; each sleep moves it on: more children start and write, then everything ends. */
  function followedRun(ctx: TestContext) {
    current.fake.model.clock = ctx.clock;
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 6, status: (t) => (t < 2 ? "RUNNING" : "RUNNABLE") }, { name: "merge", width: 1, status: () => "PENDING" }] });
    current.store.put(PROCESS_GROUP, streamOf("process-012345-0:0"), T0, "0: started").put(PROCESS_GROUP, streamOf("process-012345-0:1"), T0 + 100, "1: started");
    const moves = [
      () => {
        for (const i of [2, 3, 4, 5]) current.fake.setStatus(`process-012345-0:${i}`, "RUNNING");
        current.store.put(PROCESS_GROUP, streamOf("process-012345-0:0"), T0 + 5000, "0: half way");
        // A stream found now is read from the run's start: its earlier line comes before 0's.
        current.store.put(PROCESS_GROUP, streamOf("process-012345-0:4"), T0 + 4000, "4: started");
      },
      () => {
        for (const i of [0, 1, 2, 3, 4, 5]) current.fake.setStatus(`process-012345-0:${i}`, "SUCCEEDED");
        current.fake.setStatus("merge-012345-0", "SUCCEEDED");
        current.store.put(PROCESS_GROUP, streamOf("process-012345-0:5"), T0 + 9000, "5: done");
        current.store.put(PROCESS_GROUP, streamOf("merge-012345-0"), T0 + 12_000, "merged");
      },
      // Ingested after the run ended: the last read finds it.
      () => current.store.put(PROCESS_GROUP, streamOf("merge-012345-0"), T0 + 13_000, "merge: wrote results/out.csv"),
    ];
    const sleep = ctx.sleep;
    ctx.sleep = async (ms) => {
      await sleep(ms);
      moves.shift()?.();
    };
  }

  it("prints new lines every 5 s, each once, picks up children as they start, and stops once the run ended and each stream was read 10 s past its end", async () => {
    const ctx = cliContext();
    followedRun(ctx);
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN, "--follow"], ctx);
    expect(code).toBe(0);
    expect(stdout).toBe(["process[0]  0: started", "process[1]  1: started", "process[4]  4: started", "process[0]  0: half way", "process[5]  5: done", "merge       merged", "merge       merge: wrote results/out.csv", ""].join("\n"));
    // Everything stopped at the second sleep (12:00:10): read at :10, :15 and :20, the last 10 s past the end.
    expect(ctx.slept).toEqual([5000, 5000, 5000, 5000]);
    expect(stderr).toBe("process: 4 of 6 tasks have not started yet: no log streams for them yet\nmerge has not started yet (PENDING): no log stream yet\n");
    // [streams, startTime after the run's start]: streams read before are read again from 10 s before the
    // last line seen, streams found this poll from the start; the start job's stream (its job ended long
    // before) is read once, every stream of the run is not read again once read 10 s past its attempt's end.
    const run = current.fake.find("start-012345")!.createdAt;
    const since = (t: number) => t - 10_000 - run;
    const polls = [[[1, 0], [2, 0]], [[2, since(T0 + 100)], [4, 0]], [[6, since(T0 + 5000)], [1, 0]], [[7, since(T0 + 12_000)]], [[7, since(T0 + 13_000)]]];
    expect(filterInputs().map((i) => [i.logStreamNames!.length, i.startTime! - run])).toEqual(polls.flat());
  });

  it("Ctrl-C stops it (exit 130)", async () => {
    const ctx = cliContext({ abortAfterSleeps: 1 });
    followedRun(ctx);
    const { code, stdout } = await cli(["--stack", "dev", "logs", RUN, "--follow"], ctx);
    expect(code).toBe(130);
    expect(stdout).toBe("process[0]  0: started\nprocess[1]  1: started\n");
  });
});
