/**
 * `batch-pipeline logs`: streams that do not exist (FilterLogEvents refuses a whole call naming one: the call
 * is halved until they are alone), a log group that does not exist, and how many FilterLogEvents calls
 * `--follow` makes a poll (5 a second per account and region, CloudWatch Logs quotas).
 *
 * CloudWatch Logs is the fake of tests/cli/cloudWatchLogsFake.ts, Batch the one of tests/cli/batchRunFake.ts.
 */
import { describe, expect, it } from "vitest";
import { logsFixture } from "./fixture";
import { cli, cliContext, OUTPUTS } from "../support";

const { current, streamOf, filterInputs } = logsFixture();
const RUN = "0123456789abcdef01234567";
const T0 = Date.parse("2026-12-01T11:01:00Z");
const PROCESS_GROUP = OUTPUTS.logGroupNames.process!;


/** The finished run of tests/cli/logs/logs.test.ts, with each job's own awslogs-group. */
function finishedRunOwnGroups() {
  current.fake.addRun({ runId: RUN, start: "SUCCEEDED", logGroupOption: true, steps: [{ name: "prepare", width: 1, status: () => "SUCCEEDED" }, { name: "process", width: 3, status: () => "SUCCEEDED" }, { name: "merge", width: 1, status: () => "SUCCEEDED" }] });
}

describe("logs: streams and groups that do not exist", () => {
  // FilterLogEvents fails as a whole (ResourceNotFoundException) when one named stream does not exist.
  it("splits a refused call until the missing streams are alone, skips them with one note, prints every other line (exit 0)", async () => {
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 250, status: () => "SUCCEEDED" }] });
    for (let i = 0; i < 250; i++) current.store.put(PROCESS_GROUP, streamOf(`process-012345-0:${i}`), T0 + i, `task ${i}`);
    const gone = [5, 140, 141];
    for (const i of gone) current.store.deleted.add(streamOf(`process-012345-0:${i}`));
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN, "--step", "process"]);
    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n")).toEqual(Array.from({ length: 250 }, (_, i) => i).filter((i) => !gone.includes(i)).map((i) => `${`process[${i}]`.padEnd(13)} task ${i}`));
    expect(stderr).toBe(`3 log streams of run ${RUN} do not exist in CloudWatch Logs (deleted, expired with the log group's retention, or not created yet), e.g. process[5] (${streamOf("process-012345-0:5")}): their lines are skipped\n`);
    // Every existing stream is read by exactly one call that succeeded; halving costs 2·log2 calls a missing stream at most.
    const calls = filterInputs().map((i) => i.logStreamNames!);
    const succeeded = calls.filter((names) => !names.some((n) => current.store.deleted.has(n))).flat();
    expect(succeeded.sort()).toEqual(Array.from({ length: 250 }, (_, i) => i).filter((i) => !gone.includes(i)).map((i) => streamOf(`process-012345-0:${i}`)).sort());
    expect(calls.every((names) => names.length >= 1 && names.length <= 100)).toBe(true);
    expect(calls.map((names) => names.length)).toEqual([100, 50, 25, 13, 7, 4, 3, 2, 1, 1, 1, 6, 12, 25, 50, 100, 50, 25, 25, 13, 12, 6, 3, 2, 1, 3, 2, 1, 1, 1, 6, 50, 50]);
  });

  it("a log group that does not exist is one error naming it (exit 2), not split", async () => {
    finishedRunOwnGroups();
    current.store.groups.delete("/custom/process");
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "error: CloudWatch Logs group /custom/process does not exist: deploy the stack (`pulumi up`) or name the deployed one (--stack, AWS_REGION); a job definition whose awslogs-group option names it needs that group created\n",
    );
    expect(stdout).toBe("");
    expect(filterInputs().map((i) => [i.logGroupName, i.logStreamNames!.length])).toEqual([["/custom/start", 1], ["/custom/process", 5]]);
  });

  it("--follow: a running child's stream that does not exist yet is tried again each poll and read once it does; noted once", async () => {
    const ctx = cliContext();
    current.fake.model.clock = ctx.clock;
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 2, status: () => "RUNNING" }] });
    const late = streamOf("process-012345-0:1");
    current.store.deleted.add(late);
    current.store.put(PROCESS_GROUP, streamOf("process-012345-0:0"), T0, "0: started").put(PROCESS_GROUP, late, T0 + 1, "1: started");
    const moves = [() => current.store.deleted.delete(late), () => ["process-012345-0:0", "process-012345-0:1"].forEach((id) => current.fake.setStatus(id, "SUCCEEDED"))];
    const sleep = ctx.sleep;
    ctx.sleep = async (ms) => {
      await sleep(ms);
      moves.shift()?.();
    };
    const { code, stdout, stderr } = await cli(["--stack", "dev", "logs", RUN, "--follow"], ctx);
    expect(code).toBe(0);
    expect(stdout).toBe("process[0]  0: started\nprocess[1]  1: started\n");
    expect(stderr).toBe(`the log stream of process[1] of run ${RUN} (${late}) does not exist in CloudWatch Logs (deleted, expired with the log group's retention, or not created yet): its lines are skipped\n`);
    // Poll 2 reads the stream read before from the overlap, and the missing one again from the run's start.
    const run = current.fake.find("start-012345")!.createdAt;
    expect(filterInputs().slice(0, 5).map((i) => [i.logStreamNames, (i.startTime ?? 0) - run])).toEqual([
      [[streamOf("start-012345")], 0],
      [[streamOf("process-012345-0:0"), late], 0],
      [[streamOf("process-012345-0:0")], 0],
      [[late], 0],
      [[streamOf("process-012345-0:0")], T0 - 10_000 - run],
    ]);
  });
});

describe("logs --follow: FilterLogEvents calls a poll", () => {
  it("a 10,000-child array with most children finished: each poll reads only the streams that can still change", async () => {
    const ctx = cliContext();
    current.fake.model.clock = ctx.clock;
    current.fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "process", width: 10_000, status: (t) => (t < 9_990 ? "SUCCEEDED" : "RUNNING") }] });
    const perPoll: number[] = [];
    let counted = 0;
    const moves = [() => {}, () => {}, () => Array.from({ length: 10 }, (_, i) => current.fake.setStatus(`process-012345-0:${9_990 + i}`, "SUCCEEDED"))];
    const sleep = ctx.sleep;
    ctx.sleep = async (ms) => {
      perPoll.push(filterInputs().length - counted);
      counted = filterInputs().length;
      await sleep(ms);
      moves.shift()?.();
    };
    const { code } = await cli(["--stack", "dev", "logs", RUN, "--follow"], ctx);
    expect(code).toBe(0);
    perPoll.push(filterInputs().length - counted);
    // FilterLogEvents: 5 calls/s per account and region (CloudWatch Logs quotas). The first read takes the start
    // job's stream and 100 calls of 100 children; afterwards only the 10 running children's streams, until
    // each was read 10 s past its end (12:00:15 → read at :15, :20, :25).
    expect(perPoll).toEqual([101, 1, 1, 1, 1, 1]);
    expect(filterInputs().slice(101).map((i) => i.logStreamNames!.length)).toEqual([10, 10, 10, 10, 10]);
  });
});
