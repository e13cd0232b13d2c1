/**
 * Finding recent runs. A run started by a start job (`orchestrator.mode` container) has that job on the start
 * queue, `start-<runId>[-tail]`; a run whose DAG the trigger submitted itself (inline) has only its process
 * and barrier jobs, `<runId>-<id>`, on the process queue. So both queues are listed with an
 * `AFTER_CREATED_AT` filter (with a filter, ListJobs ignores `jobStatus` and returns every status, newest
 * first, 100 a page; only one filter per call: ListJobs API reference) and merged newest first; a listing by
 * queue returns jobs and array parents, never array children (those only by `arrayJobId`), so a run costs
 * the process queue its plain jobs, array parents and barriers, not its tasks. Summaries carry no tags, so
 * each job's run is read from its name (contract `runOfJobName`); a run is a candidate once, whichever of
 * its jobs (start job or DAG job, either queue) is listed first. Each candidate is read with `fetchRun`
 * (both queues by name), a few at a time, until `limit` runs match; how it was started is what that read
 * finds: a start job listed or not.
 */
import type { JobSummary } from "@aws-sdk/client-batch";
import type { RunOrchestrator } from "../../contract/orchestration";
import { type JobNameOfRun, runOfJobName } from "../../contract/run";
import { withThrottleRetry } from "../../batch/calls";
import type { StackOutputs } from "../stack/outputs";
import { fetchRun, type RunDeps, UnknownRunError } from "../runModel/read";
import { type RunSnapshot, type RunState } from "../runModel/model";

/** What `--status` selects. */
export const RUN_OUTCOMES = { failed: ["FAILED"], succeeded: ["SUCCEEDED"], running: ["SUBMITTING", "WAITING", "RUNNING"] } as const satisfies Record<string, readonly RunState[]>;
export type RunOutcome = keyof typeof RUN_OUTCOMES;

/** Runs read at once: enough to be quick, few enough that the account's Batch budget stays with the runs. */
export const RUNS_CONCURRENCY = 4;

/** One recent run. */
export interface RecentRun {
  runId: string;
  state: RunState;
  /** When its first start job was created. */
  createdAt: number;
  stoppedAt?: number;
  key?: string;
  startJobs: number;
  /**
   * How the run was started (contract `RunOrchestrator`), as Batch shows it: `container` when a start job of it is
   * listed, `inline` when only its DAG is (the trigger planned and submitted it: `orchestrator.mode` inline, or auto
   * for a small plan). A container run whose start job Batch no longer lists (it ended first, and Batch forgets
   * finished jobs) shows as `inline` too.
   */
  orchestrator: RunOrchestrator;
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
    orchestrator: snapshot.startJobs.length > 0 ? "container" : "inline",
    tasks: {
      total: steps.reduce((n, s) => n + s.width, 0),
      done: steps.reduce((n, s) => n + s.counts.SUCCEEDED, 0),
      failed: steps.reduce((n, s) => n + s.counts.FAILED, 0),
    },
  };
}

/** One queue's jobs created since the window began, newest first, listed a page at a time. */
interface QueueListing {
  queue: string;
  /** Listed and not yet taken. */
  jobs: JobSummary[];
  nextToken?: string;
  done: boolean;
}

/**
 * The newest `limit` runs begun after `after` (ms) whose state `outcome` selects, newest first. Lists each
 * queue page by page only as far as needed and reads at most {@link RUNS_CONCURRENCY} runs at once.
 */
export async function recentRuns(outputs: StackOutputs, deps: RunDeps, options: { after: number; outcome?: RunOutcome; limit: number }): Promise<RecentRuns> {
  let calls = 0;
  const batch = { send: ((command: never) => (calls++, deps.batch.send(command))) as RunDeps["batch"]["send"] };
  const runDeps: RunDeps = { ...deps, batch };
  const wanted: readonly RunState[] | undefined = options.outcome ? RUN_OUTCOMES[options.outcome] : undefined;
  const candidates: { first: JobSummary; run: JobNameOfRun }[] = [];
  const seen = new Set<string>();
  // One listing when the start and process queues are the same queue.
  const listings: QueueListing[] = [...new Set([outputs.startQueueArn, outputs.processQueueArn])].map((queue) => ({ queue, jobs: [], done: false }));
  const filters = [{ name: "AFTER_CREATED_AT", values: [String(options.after)] }];
  const listPage = async (listing: QueueListing) => {
    const { queue, nextToken } = listing;
    const page = await withThrottleRetry(() => batch.send(new deps.commands.ListJobsCommand({ jobQueue: queue, filters, nextToken })), runDeps, "ListJobs");
    listing.jobs.push(...(page.jobSummaryList ?? []));
    listing.nextToken = page.nextToken;
    listing.done = !page.nextToken;
  };
  const exhausted = () => listings.every((l) => l.done && l.jobs.length === 0);
  /** Takes jobs newest first across the queues until one is of a run not seen yet; false once every queue is listed to its end. */
  const discover = async (): Promise<boolean> => {
    for (;;) {
      await Promise.all(listings.filter((l) => l.jobs.length === 0 && !l.done).map(listPage));
      const heads = listings.filter((l) => l.jobs.length > 0);
      if (heads.length === 0) return false;
      const newest = heads.reduce((a, b) => ((b.jobs[0]!.createdAt ?? 0) > (a.jobs[0]!.createdAt ?? 0) ? b : a));
      const job = newest.jobs.shift()!;
      const run = runOfJobName(job.jobName);
      if (run && !seen.has(run.runId)) {
        seen.add(run.runId);
        candidates.push({ first: job, run });
        return true;
      }
    }
  };

  const found: (RecentRun | undefined)[] = [];
  let launched = 0;
  let matched = 0;
  let discovering: Promise<boolean> | undefined;
  const next = async (): Promise<number | undefined> => {
    while (launched >= candidates.length) {
      discovering ??= discover().finally(() => (discovering = undefined));
      if (!(await discovering) && launched >= candidates.length) return undefined;
    }
    return launched++;
  };
  const worker = async () => {
    for (let k = matched < options.limit ? await next() : undefined; k !== undefined; k = matched < options.limit ? await next() : undefined) {
      const { first, run: named } = candidates[k]!;
      const runId = named.runId;
      let run: RecentRun;
      try {
        run = rowOf(await fetchRun(runId, outputs, runDeps), first);
      } catch (error) {
        // Listed by queue but not yet by name (ListJobs is eventually consistent): just begun.
        if (!(error instanceof UnknownRunError)) throw error;
        const started = named.kind === "start";
        run = { runId, state: "SUBMITTING", createdAt: first.createdAt ?? 0, startJobs: started ? 1 : 0, orchestrator: started ? "container" : "inline", tasks: { total: 0, done: 0, failed: 0 } };
      }
      // A container run whose start job was created before the window, listed by its DAG's jobs: not begun in it.
      if (run.createdAt < options.after) continue;
      if (!wanted || wanted.includes(run.state)) {
        found[k] = run;
        matched++;
      }
    }
  };
  await Promise.all(Array.from({ length: RUNS_CONCURRENCY }, worker));
  const matching = found.filter((r): r is RecentRun => r !== undefined);
  const runs = matching.slice(0, options.limit).sort((a, b) => b.createdAt - a.createdAt);
  return { runs, more: matching.length > options.limit || !exhausted() || launched < candidates.length, calls };
}
