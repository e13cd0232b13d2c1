/**
 * `batch-pipeline logs RUN [--step S] [--task N] [--follow] [--since D] [--json]`: the container output of
 * a run's jobs from CloudWatch Logs, each line prefixed by its step and task (`process[17] …`), in time
 * order. `--follow` reads again every 5 s from the last line seen, picking up children as they start, and
 * stops reading a stream once it was read {@link FOLLOW_OVERLAP_MS} past the end of the attempt that
 * writes it (so a wide array whose children have mostly finished costs a few FilterLogEvents calls a
 * poll, not one per 100 children ever started: the account has 5 a second); it ends when the run has
 * ended and every stream was so read (or on Ctrl-C: exit 130). Streams that do not exist are skipped with
 * one note (and tried again while their job runs: a stream can be created after Batch names it).
 */
import type { Command } from "commander";
import type { CliContext, Colors } from "../app/context";
import { awsCall, CLI_EXIT, CliError } from "../app/errors";
import { fmtInt, pad, parseSince, terminalText } from "../app/format";
import { loadDeployedStack } from "../stack/outputs";
import type { CommandSetup } from "../app/setup";
import { accessOf } from "../runModel/access";
import { checkRunId, fetchRun } from "../runModel/read";
import { labelOf } from "../runModel/screen";
import { type RunSnapshot } from "../runModel/model";
import { type LogLine, readLogLines } from "./events";
import { type LogSelection, type LogSource, LogSources, NOT_STARTED, notStartedByStep, selectJobs, sourceKey } from "./sources";

interface LogsOptions {
  step?: string;
  task?: string;
  follow?: boolean;
  since?: string;
  json?: boolean;
}

/** How often `--follow` reads again. */
export const FOLLOW_POLL_MS = 5_000;

/**
 * How far before the last line seen a `--follow` read starts again: CloudWatch Logs may make an event
 * readable a few seconds after a later one of another stream (ingestion is not ordered across streams),
 * and events already printed are recognised by their eventId.
 */
export const FOLLOW_OVERLAP_MS = 10_000;


const PALETTE: readonly (keyof Colors)[] = ["cyan", "magenta", "yellow", "blue", "green", "red"];

function selectionOf(options: LogsOptions): LogSelection {
  if (options.task === undefined) return options.step !== undefined ? { step: options.step } : {};
  if (options.step === undefined) throw new CliError(`--task ${options.task} needs --step: task numbers count within a step`);
  if (!/^\d+$/.test(options.task) || !Number.isSafeInteger(Number(options.task))) throw new CliError(`--task ${options.task}: must be a task number (0, 1, …)`);
  return { step: options.step, task: Number(options.task) };
}

/** Writes lines as text (prefix padded to the widest label of the run, coloured per step) or JSON lines. */
function printer(ctx: CliContext, snapshot: RunSnapshot, json: boolean) {
  const steps = ["start", ...snapshot.steps.map((s) => s.name)];
  const width = Math.max(...steps.map((name) => {
    const step = snapshot.steps.find((s) => s.name === name);
    return labelOf({ step: name, ...(step && step.width > 1 ? { task: step.width - 1 } : {}) }).length;
  }));
  const c = ctx.term.color;
  const colour = (step: string) => c[PALETTE[Math.max(0, steps.indexOf(step)) % PALETTE.length]!] as (s: string) => string;
  return (line: LogLine) => {
    const { source } = line;
    if (json) {
      ctx.term.out(`${JSON.stringify({ time: new Date(line.time).toISOString(), step: source.step, task: source.task ?? null, jobId: source.jobId, message: line.message })}\n`);
      return;
    }
    const prefix = colour(source.step)(pad(labelOf(source), width));
    for (const text of line.message.split(/\r?\n/)) ctx.term.out(`${prefix}  ${terminalText(text)}\n`);
  };
}

/** `3 log streams of run … do not exist …, e.g. process[5] (stream): their lines are skipped`. */
function missingNote(runId: string, missing: readonly LogSource[]): string {
  const first = missing[0]!;
  const why = "(deleted, expired with the log group's retention, or not created yet)";
  if (missing.length === 1) return `the log stream of ${labelOf(first)} of run ${runId} (${first.stream}) does not exist in CloudWatch Logs ${why}: its lines are skipped`;
  return `${fmtInt(missing.length)} log streams of run ${runId} do not exist in CloudWatch Logs ${why}, e.g. ${labelOf(first)} (${first.stream}): their lines are skipped`;
}

async function logs(runId: string, options: LogsOptions, setup: CommandSetup): Promise<number> {
  const { ctx } = setup;
  checkRunId(runId);
  const selection = selectionOf(options);
  const since = options.since !== undefined ? parseSince(options.since) : undefined;
  if (options.since !== undefined && since === undefined) throw new CliError(`--since ${options.since}: must be a duration such as 90m, 24h or 7d`);
  const deployed = await loadDeployedStack(setup.globals(), ctx);
  const clients = ctx.aws(deployed.region);
  const runDeps = accessOf(deployed, ctx).deps;
  let snapshot = await awsCall("Batch ListJobs/DescribeJobs", () => fetchRun(runId, deployed.outputs, runDeps));
  const print = printer(ctx, snapshot, Boolean(options.json));
  const sources = new LogSources(deployed.outputs, runDeps);
  const noted = new Set<string>();
  const printed = new Map<string, number>();
  /** By sourceKey: when the stream was last read (the read's start), and streams never to be read again. */
  const lastRead = new Map<string, number>();
  const done = new Set<string>();
  /** Streams CloudWatch Logs said do not exist, tried again (from the start) while their job may still create them. */
  const missing = new Map<string, LogSource>();
  const base = since !== undefined ? ctx.now() - since : snapshot.createdAt;
  let last = base;
  /** When the run ended (its last job stopped), once a snapshot says it has: no stream gets a line after it. */
  const endOf = (run: RunSnapshot) => (run.state === "SUCCEEDED" || run.state === "FAILED" ? (run.stoppedAt ?? ctx.now()) : undefined);
  let endedAt = endOf(snapshot);
  const reportedMissing = new Set<string>();

  const note = (key: string, text: string) => {
    if (noted.has(key)) return;
    noted.add(key);
    ctx.term.err(`${text}\n`);
  };
  for (;;) {
    const jobs = selectJobs(snapshot, selection);
    const known = [...sources.sources.entries()].filter(([key]) => lastRead.has(key) && !done.has(key) && !missing.has(key)).map(([, s]) => s);
    const probes = [...missing.values()];
    const found = await awsCall("Batch ListJobs/DescribeJobs", () => sources.update(jobs, selection));
    if (selection.task !== undefined) {
      const job = jobs[0]!;
      const status = job.array ? sources.statusOf(`${job.jobId}:${selection.task - job.taskOffset}`) : job.status;
      if (status && NOT_STARTED.has(status)) note(job.step, `${selection.step}[${selection.task}] has not started yet (${status}): no log stream yet`);
    } else {
      for (const [step, { waiting, total }] of notStartedByStep(jobs)) {
        if (waiting === 0) continue;
        const state = jobs.find((j) => j.step === step)?.status;
        note(step, total === 1 ? `${step} has not started yet (${state}): no log stream yet` : `${step}: ${fmtInt(waiting)} of ${fmtInt(total)} tasks have not started yet: no log streams for them yet`);
      }
    }
    // Streams read before: from just before the last line; streams found now (or missing before): from the start.
    const from = last !== undefined && known.length > 0 ? Math.max(base ?? -Infinity, last - FOLLOW_OVERLAP_MS) : base;
    const reads = [
      ...(known.length > 0 ? [{ streams: known, startTime: from }] : []),
      ...(found.length + probes.length > 0 ? [{ streams: [...found, ...probes], startTime: base }] : []),
    ];
    const lines: LogLine[] = [];
    const newlyMissing: LogSource[] = [];
    for (const read of reads) {
      const readAt = ctx.now();
      const result = await awsCall("CloudWatch Logs FilterLogEvents", () => readLogLines(clients.logs(), read.streams, read.startTime !== undefined ? { startTime: read.startTime } : {}, { sleep: ctx.sleep }));
      lines.push(...result.lines);
      const absent = new Set(result.missing.map(sourceKey));
      for (const source of read.streams) {
        const key = sourceKey(source);
        if (!absent.has(key)) {
          lastRead.set(key, readAt);
          missing.delete(key);
          continue;
        }
        if (!reportedMissing.has(key)) newlyMissing.push(source);
        reportedMissing.add(key);
        // A stream its finished job never created will not appear: it is not asked for again.
        if (sources.stopOf(source) !== undefined || endedAt !== undefined) {
          missing.delete(key);
          done.add(key);
        } else missing.set(key, source);
      }
    }
    if (newlyMissing.length > 0) ctx.term.err(`${missingNote(runId, newlyMissing)}\n`);
    for (const line of lines.sort((a, b) => a.time - b.time)) {
      if (printed.has(line.eventId)) continue;
      printed.set(line.eventId, line.time);
      print(line);
      last = Math.max(last ?? line.time, line.time);
    }
    if (!options.follow) break;
    // CloudWatch Logs may make a line readable up to the overlap after a later one: a stream read that long
    // after its attempt stopped has nothing more to give (once the run ended, every job has stopped).
    for (const [key, source] of sources.sources) {
      const stop = sources.stopOf(source) ?? endedAt;
      const read = lastRead.get(key);
      if (stop !== undefined && read !== undefined && read >= stop + FOLLOW_OVERLAP_MS) done.add(key);
    }
    if (endedAt !== undefined && [...sources.sources.keys()].every((key) => done.has(key))) break;
    // Only events at or after the overlap can come again.
    for (const [id, time] of printed) if (last !== undefined && time < last - 2 * FOLLOW_OVERLAP_MS) printed.delete(id);
    await ctx.sleep(FOLLOW_POLL_MS);
    if (ctx.signal.aborted) return CLI_EXIT.interrupted;
    snapshot = await awsCall("Batch ListJobs/DescribeJobs", () => fetchRun(runId, deployed.outputs, runDeps, snapshot));
    endedAt ??= endOf(snapshot);
  }
  if (sources.sources.size === 0 && noted.size === 0 && !options.json) ctx.term.err(`no log streams for ${selection.step !== undefined ? `\`${labelOf({ step: selection.step, ...(selection.task !== undefined ? { task: selection.task } : {}) })}\` of ` : ""}run ${runId} yet\n`);
  return CLI_EXIT.ok;
}

export function logsCommand(program: Command, setup: CommandSetup): void {
  program
    .command("logs")
    .description("the container logs of a run's jobs from CloudWatch Logs, each line prefixed by step and task")
    .argument("<run>", "the run id (24 hex characters)")
    .option("--step <name>", "only this step (`start` for the start job)")
    .option("--task <n>", "only task N of --step (its number in the step, from 0)")
    .option("--follow", `read again every ${FOLLOW_POLL_MS / 1000} s until the run has ended (Ctrl-C stops)`)
    .option("--since <duration>", "only lines of the last 90m, 24h, 7d… (default: since the run started)")
    .option("--json", "JSON lines {time, step, task, jobId, message}")
    .action(setup.action((runId: string, options: LogsOptions) => logs(runId, options, setup)));
}
