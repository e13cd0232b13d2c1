/**
 * Finding recent runs: every run has a start job on the start queue named `start-<runId>[-tail]`, so one
 * ListJobs of that queue with an `AFTER_CREATED_AT` filter lists the runs begun since then, newest first
 * (with a filter, ListJobs ignores `jobStatus` and returns every status, 100 a page; only one filter per
 * call: ListJobs API reference). Start jobs of one run (a repeated S3 event makes two) are grouped by run
 * id; each run is then read with `fetchRun`, a few at a time, until `limit` runs match.
 */
import type { JobSummary } from "@aws-sdk/client-batch";
import { RUN_ID_CHARS, START_JOB_NAME_PREFIX } from "../../contract";
import { withThrottleRetry } from "../../batch/calls";
import type { StackOutputs } from "../stack/outputs";
import { fetchRun, type RunDeps, UnknownRunError } from "../runModel/read";
import { type RunSnapshot, type RunState } from "../runModel/model";

/** What `--status` selects. */
export const RUN_OUTCOMES = { failed: ["FAILED"], succeeded: ["SUCCEEDED"], running: ["SUBMITTING", "WAITING", "RUNNING"] } as const satisfies Record<string, readonly RunState[]>;
export type RunOutcome = keyof typeof RUN_OUTCOMES;

/** Runs read at once: enough to be quick, few enough that the account's Batch budget stays with the runs. */
export const RUNS_CONCURRENCY = 4;

const START_NAME = new RegExp(`^${START_JOB_NAME_PREFIX}-([0-9a-f]{${RUN_ID_CHARS}})(?:-|$)`);

/** The run id a start job's name carries, if it is one. */
export function runIdOfStartJob(jobName: string | undefined): string | undefined {
  return START_NAME.exec(jobName ?? "")?.[1];
}

/** One recent run. */
export interface RecentRun {
  runId: string;
  state: RunState;
  /** When its first start job was created. */
  createdAt: number;
  stoppedAt?: number;
  key?: string;
  startJobs: number;
  tasks: { total: number; done: number; failed: number };
}

/** What {@link recentRuns} found. */
export interface RecentRuns {
  runs: RecentRun[];
  /** More runs started in the window than were read (`limit` reached). */
  more: boolean;
  /** Batch calls made. */
  calls: number;
}

function rowOf(snapshot: RunSnapshot, first: JobSummary): RecentRun {
  const steps = snapshot.steps;
  return {
    runId: snapshot.runId,
    state: snapshot.state,
    createdAt: snapshot.createdAt ?? first.createdAt ?? 0,
    ...(snapshot.stoppedAt !== undefined ? { stoppedAt: snapshot.stoppedAt } : {}),
    ...(snapshot.input ? { key: snapshot.input.key } : {}),
    startJobs: snapshot.startJobs.length,
    tasks: {
      total: steps.reduce((n, s) => n + s.width, 0),
      done: steps.reduce((n, s) => n + s.counts.SUCCEEDED, 0),
      failed: steps.reduce((n, s) => n + s.counts.FAILED, 0),
    },
  };
}

/**
 * The newest `limit` runs begun after `after` (ms) whose state `outcome` selects, newest first. Lists the
 * start queue page by page only as far as needed and reads at most {@link RUNS_CONCURRENCY} runs at once.
 */
export async function recentRuns(outputs: StackOutputs, deps: RunDeps, options: { after: number; outcome?: RunOutcome; limit: number }): Promise<RecentRuns> {
  let calls = 0;
  const batch = { send: ((command: never) => (calls++, deps.batch.send(command))) as RunDeps["batch"]["send"] };
  const runDeps: RunDeps = { ...deps, batch };
  const wanted: readonly RunState[] | undefined = options.outcome ? RUN_OUTCOMES[options.outcome] : undefined;
  const candidates: { runId: string; first: JobSummary }[] = [];
  const seen = new Set<string>();
  let nextToken: string | undefined;
  let exhausted = false;
  let listing: Promise<void> | undefined;
  const listPage = async () => {
    const filters = [{ name: "AFTER_CREATED_AT", values: [String(options.after)] }];
    const page = await withThrottleRetry(() => batch.send(new deps.commands.ListJobsCommand({ jobQueue: outputs.startQueueArn, filters, nextToken })), runDeps, "ListJobs");
    for (const job of page.jobSummaryList ?? []) {
      const runId = runIdOfStartJob(job.jobName);
      if (runId && !seen.has(runId)) {
        seen.add(runId);
        candidates.push({ runId, first: job });
      }
    }
    nextToken = page.nextToken;
    exhausted = !nextToken;
  };

  const found: (RecentRun | undefined)[] = [];
  let launched = 0;
  let matched = 0;
  const next = async (): Promise<number | undefined> => {
    while (launched >= candidates.length) {
      if (exhausted) return undefined;
      listing ??= listPage().finally(() => (listing = undefined));
      await listing;
    }
    return launched++;
  };
  const worker = async () => {
    for (let k = matched < options.limit ? await next() : undefined; k !== undefined; k = matched < options.limit ? await next() : undefined) {
      const { runId, first } = candidates[k]!;
      let run: RecentRun;
      try {
        run = rowOf(await fetchRun(runId, outputs, runDeps), first);
      } catch (error) {
        // Listed on the start queue but not yet by name (ListJobs is eventually consistent): just begun.
        if (!(error instanceof UnknownRunError)) throw error;
        run = { runId, state: "SUBMITTING", createdAt: first.createdAt ?? 0, startJobs: 1, tasks: { total: 0, done: 0, failed: 0 } };
      }
      if (!wanted || wanted.includes(run.state)) {
        found[k] = run;
        matched++;
      }
    }
  };
  await Promise.all(Array.from({ length: RUNS_CONCURRENCY }, worker));
  const matching = found.filter((r): r is RecentRun => r !== undefined);
  const runs = matching.slice(0, options.limit).sort((a, b) => b.createdAt - a.createdAt);
  return { runs, more: matching.length > options.limit || !exhausted || launched < candidates.length, calls };
}
