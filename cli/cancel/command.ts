/**
 * `batch-pipeline cancel RUN [--yes] [--reason TEXT] [--json]`: terminates every job of a run that has
 * not finished (start jobs first, then the DAG, then running array children: cli/cancel/plan.ts), with a
 * reason that names who cancelled it, after asking on a terminal; then waits (at most 10 minutes, saying
 * so on stderr) until the start jobs have stopped and every array job has ended, terminating jobs and
 * children that appear meanwhile (cli/cancel/execute.ts). Exit 0 when every TerminateJob call succeeded
 * and all of that ended (or the run had already ended), 3 when a call failed or something still runs at
 * the bound, 2 without --yes where nobody can answer, 130 on Ctrl-C.
 */
import type { Command } from "commander";
import { executeCancel, settledSnapshot } from "./execute";
import { type CancelOutcome, type CancelPlan, type FailedTermination, planCancel, type TerminatedJob } from "./plan";
import { awsCall, CLI_EXIT, CliError, describeAwsError } from "../app/errors";
import { fmtInt, table } from "../app/format";
import { loadDeployedStack } from "../stack/outputs";
import type { CommandSetup } from "../app/setup";
import { accessOf } from "../runModel/access";
import { checkRunId, fetchRun } from "../runModel/read";
import type { RunSnapshot } from "../runModel/model";

interface CancelOptions {
  yes?: boolean;
  reason?: string;
  json?: boolean;
}

/** The reason Batch records on every terminated job (DescribeJobs `statusReason`, the job-state log). */
export function cancelReason(env: Readonly<Record<string, string | undefined>>, reason: string | undefined): string {
  return `batch-pipeline cancel by ${env.USER || "unknown"}: ${reason?.trim() || "no reason given"}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${fmtInt(n)} ${n === 1 ? one : many}`;

/** `14 jobs (3 running, 11 waiting)`: array children count as the jobs they are. */
export function describePlan(plan: CancelPlan): string {
  return `${plural(plan.running + plan.waiting, "job")} (${fmtInt(plan.running)} running, ${fmtInt(plan.waiting)} waiting)`;
}

function stepLines(outcome: CancelOutcome): string[][] {
  const steps = [...new Set([...outcome.terminated, ...outcome.failed].map((t) => t.step))];
  return steps.map((step) => {
    const done = outcome.terminated.filter((t) => t.step === step);
    const parts: string[] = [];
    const jobs = done.filter((t) => t.kind !== "child");
    const children = done.filter((t) => t.kind === "child");
    if (jobs.length > 0) parts.push(plural(jobs.length, step === "start" ? "start job" : "job"));
    if (children.length > 0) parts.push(plural(children.length, "running array child", "running array children"));
    return [step, parts.length > 0 ? `terminated ${parts.join(" and ")}` : "terminated nothing"];
  });
}

/** `run-process[3] (process-…:3, RUNNING), …`: at most 10, then how many more. */
function jobList(jobs: readonly TerminatedJob[]): string {
  const shown = jobs.slice(0, 10).map((j) => `${j.jobName} (${j.jobId}, ${j.status})`);
  return `${shown.join(", ")}${jobs.length > 10 ? `, and ${fmtInt(jobs.length - 10)} more` : ""}`;
}

/** What still runs when the wait stopped early, and what to do, in one line. */
function stillRunningMessage(runId: string, outcome: CancelOutcome): string {
  const what = `${plural(outcome.stillRunning.length, "job")} of run ${runId} still running`;
  const next = `\`batch-pipeline status ${runId}\` shows them, \`batch-pipeline cancel ${runId} --yes\` terminates what is left`;
  if (outcome.wait === "interrupted") return `interrupted: stopped waiting with ${what}: ${jobList(outcome.stillRunning)}; ${next}`;
  if (outcome.wait === "error") {
    const why = describeAwsError(outcome.waitError, "Batch ListJobs/DescribeJobs")?.message ?? String((outcome.waitError as Error | undefined)?.message ?? outcome.waitError);
    return `error: stopped waiting for the terminated jobs to end: ${why}; ${what}: ${jobList(outcome.stillRunning)}; ${next}`;
  }
  return `error: ${what} ${fmtInt(Math.round(outcome.waitedMs / 1000))} s after TerminateJob: ${jobList(outcome.stillRunning)}; ${next}`;
}

/** Why a TerminateJob call failed, in one line. */
function failureMessage(f: FailedTermination): string {
  return describeAwsError(f.error, `Batch TerminateJob ${f.jobId}`)?.message ?? String((f.error as Error | undefined)?.message ?? f.error);
}

async function cancel(runId: string, options: CancelOptions, setup: CommandSetup): Promise<number> {
  const { ctx } = setup;
  checkRunId(runId);
  const deployed = await loadDeployedStack(setup.globals(), ctx);
  const runDeps = accessOf(deployed, ctx).deps;
  const deps = {
    ...runDeps,
    signal: ctx.signal,
    refetch: (previous: RunSnapshot) => fetchRun(runId, deployed.outputs, runDeps, previous),
    ...(options.json ? {} : { progress: (text: string) => ctx.term.err(`${text}\n`) }),
  };
  let snapshot = await awsCall("Batch ListJobs/DescribeJobs", () => fetchRun(runId, deployed.outputs, runDeps));
  let plan = await awsCall("Batch DescribeJobs", () => planCancel(snapshot, deps));
  if (plan.startJobs.length + plan.dagJobs.length === 0) {
    // Nothing live listed, but a start job that stopped just now may have submitted jobs Batch does not list yet.
    snapshot = await awsCall("Batch ListJobs/DescribeJobs", () => settledSnapshot(snapshot, deps));
    if (ctx.signal.aborted) return CLI_EXIT.interrupted;
    plan = await awsCall("Batch DescribeJobs", () => planCancel(snapshot, deps));
  }
  const reason = cancelReason(ctx.env, options.reason);
  const c = ctx.term.color;

  if (plan.startJobs.length + plan.dagJobs.length === 0) {
    if (options.json) ctx.term.out(`${JSON.stringify({ runId, state: snapshot.state, reason, terminated: [], failed: [], stillRunning: [], wait: "done" })}\n`);
    else ctx.term.out(`run ${runId} already ended (${snapshot.state}): nothing to terminate\n`);
    return CLI_EXIT.ok;
  }
  if (!options.yes) {
    if (!ctx.term.stdinIsTTY) {
      throw new CliError(`cancel would terminate ${describePlan(plan)} of run ${runId}; stdin is not a terminal to ask, so pass --yes to go ahead`);
    }
    if (!(await ctx.confirm(`Terminate ${describePlan(plan)} of run ${runId}?`))) {
      ctx.term.err("nothing terminated\n");
      return CLI_EXIT.failed;
    }
  }
  if (!options.json) ctx.term.err(`terminating ${describePlan(plan)} of run ${runId} (reason: ${reason})\n`);
  const outcome = await awsCall("Batch TerminateJob/ListJobs", () => executeCancel(plan, snapshot, reason, deps));

  if (options.json) {
    const strip = ({ step, jobId, jobName, kind, status }: TerminatedJob) => ({ step, jobId, jobName, kind, status });
    const failed = outcome.failed.map((f) => ({ ...strip(f), error: failureMessage(f) }));
    const waitError = outcome.wait === "error" ? { waitError: stillRunningMessage(runId, outcome) } : {};
    ctx.term.out(`${JSON.stringify({ runId, state: snapshot.state, reason, terminated: outcome.terminated.map(strip), failed, stillRunning: outcome.stillRunning.map(strip), wait: outcome.wait, ...waitError })}\n`);
  } else {
    ctx.term.out(`${table(stepLines(outcome)).join("\n")}\n`);
    for (const f of outcome.failed) ctx.term.err(`${c.red("error:")} could not terminate ${f.jobName} (${f.jobId}, ${f.step}): ${failureMessage(f)}\n`);
    if (outcome.wait !== "done") ctx.term.err(`${stillRunningMessage(runId, outcome).replace(/^(error|interrupted):/, (m) => c.red(m))}\n`);
    // Start jobs and array children were waited for; a plain job of the DAG that was running may still be stopping.
    else if (outcome.terminated.some((t) => t.kind === "job" && (t.status === "RUNNING" || t.status === "STARTING"))) {
      ctx.term.err("running containers get SIGTERM, then SIGKILL about 30 s later; `batch-pipeline status " + runId + "` shows them end\n");
    }
  }
  if (outcome.wait === "interrupted") return CLI_EXIT.interrupted;
  return outcome.failed.length > 0 || outcome.wait !== "done" ? CLI_EXIT.aws : CLI_EXIT.ok;
}

export function cancelCommand(program: Command, setup: CommandSetup): void {
  program
    .command("cancel")
    .description("terminate every job of a run that has not finished: start jobs first, then the DAG and its running array children; wait until they have ended")
    .argument("<run>", "the run id (24 hex characters)")
    .option("--yes", "do not ask (required when stdin is not a terminal)")
    .option("--reason <text>", "why, recorded on every job as `batch-pipeline cancel by <user>: <text>`")
    .option("--json", "print {runId, state, reason, terminated, failed, stillRunning, wait} as JSON")
    .action(setup.action((runId: string, options: CancelOptions) => cancel(runId, options, setup)));
}
