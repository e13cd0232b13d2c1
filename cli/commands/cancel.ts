/**
 * `batch-pipeline cancel RUN [--yes] [--reason TEXT] [--json]`: terminates every job of a run that has
 * not finished (start jobs first, then the DAG, then running array children: cli/cancelRun.ts), with a
 * reason that names who cancelled it, after asking on a terminal. Exit 0 when every TerminateJob call
 * succeeded (or the run had already ended), 3 when one failed, 2 without --yes where nobody can answer.
 */
import type { Command } from "commander";
import { type CancelOutcome, type CancelPlan, executeCancel, type FailedTermination, planCancel, type TerminatedJob } from "../cancelRun";
import { awsCall, CLI_EXIT, CliError, describeAwsError } from "../errors";
import { fmtInt, table } from "../format";
import { loadDeployedStack } from "../outputs";
import type { CommandSetup } from "../program";
import { checkRunId, fetchRun } from "../runJobs";

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

/** Why a TerminateJob call failed, in one line. */
function failureMessage(f: FailedTermination): string {
  return describeAwsError(f.error, `Batch TerminateJob ${f.jobId}`)?.message ?? String((f.error as Error | undefined)?.message ?? f.error);
}

async function cancel(runId: string, options: CancelOptions, setup: CommandSetup): Promise<number> {
  const { ctx } = setup;
  checkRunId(runId);
  const deployed = await loadDeployedStack(setup.globals(), ctx);
  const batch = ctx.aws(deployed.region).batch();
  const deps = { batch, sleep: ctx.sleep };
  const snapshot = await awsCall("Batch ListJobs/DescribeJobs", () => fetchRun(runId, deployed.outputs, { batch, now: ctx.now, sleep: ctx.sleep }));
  const plan = await awsCall("Batch DescribeJobs", () => planCancel(snapshot, deps));
  const reason = cancelReason(ctx.env, options.reason);
  const c = ctx.term.color;

  if (plan.startJobs.length + plan.dagJobs.length === 0) {
    if (options.json) ctx.term.out(`${JSON.stringify({ runId, state: snapshot.state, reason, terminated: [], failed: [] })}\n`);
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
  const outcome = await executeCancel(plan, reason, deps);

  if (options.json) {
    const strip = ({ step, jobId, jobName, kind, status }: TerminatedJob) => ({ step, jobId, jobName, kind, status });
    const failed = outcome.failed.map((f) => ({ ...strip(f), error: failureMessage(f) }));
    ctx.term.out(`${JSON.stringify({ runId, state: snapshot.state, reason, terminated: outcome.terminated.map(strip), failed })}\n`);
  } else {
    ctx.term.out(`${table(stepLines(outcome)).join("\n")}\n`);
    for (const f of outcome.failed) ctx.term.err(`${c.red("error:")} could not terminate ${f.jobName} (${f.jobId}, ${f.step}): ${failureMessage(f)}\n`);
    if (outcome.terminated.some((t) => t.status === "RUNNING" || t.status === "STARTING")) {
      ctx.term.err("running containers get SIGTERM, then SIGKILL about 30 s later; `batch-pipeline status " + runId + "` shows them end\n");
    }
  }
  return outcome.failed.length > 0 ? CLI_EXIT.aws : CLI_EXIT.ok;
}

export function cancelCommand(program: Command, setup: CommandSetup): void {
  program
    .command("cancel")
    .description("terminate every job of a run that has not finished: start jobs first, then the DAG and its running array children")
    .argument("<run>", "the run id (24 hex characters)")
    .option("--yes", "do not ask (required when stdin is not a terminal)")
    .option("--reason <text>", "why, recorded on every job as `batch-pipeline cancel by <user>: <text>`")
    .option("--json", "print {runId, state, reason, terminated, failed} as JSON")
    .action(setup.action((runId: string, options: CancelOptions) => cancel(runId, options, setup)));
}
