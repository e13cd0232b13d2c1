/**
 * A planned run as local jobs and tasks: every job of the orchestrator's plan (workflow/planner.ts) becomes
 * one {@link LocalJob}, an array job of size N holds N child tasks (`<job id>:<i>`, as Batch names
 * children), a plain job one task, a barrier job none. Dependencies are kept as Batch has them (job to
 * job; N_TO_N child to child, "Array jobs", Batch user guide) and counted, so the scheduler releases work
 * by decrementing counters and never rescans: building and running cost O(jobs + tasks), never
 * O(tasks × dependents).
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import { createHash } from "node:crypto";
import { LOCAL_TASK_ENV } from "../../contract";
import type { Plan, PlannedJob } from "../../workflow/planner";
import { shellPlaceholderProblem } from "../../workflow/spec";
import { zeroCounts, type StateCounts } from "../runModel/model";
import type { LocalDefinition } from "./definitions";
import { BATCH_ENV, jobCommand, jobEnvironment, LOCAL_COMPUTE_ENVIRONMENT, queueName } from "./environment";

/** A task's state: Batch's, or CANCELLED once Ctrl-C stopped its attempt (Batch has no such state). */
export type TaskStatus = JobStatus | "CANCELLED";

/** Tasks per {@link TaskStatus}. */
export type LocalCounts = StateCounts & { CANCELLED: number };

const localCounts = (): LocalCounts => ({ ...zeroCounts(), CANCELLED: 0 });

/** One task: a plain job's container, or one child of an array job. Mutated by the scheduler. */
export interface LocalTask {
  job: LocalJob;
  /** Index in its array (`AWS_BATCH_JOB_ARRAY_INDEX`), or -1 for a plain job. */
  index: number;
  /** Its number within its step: the job's task offset plus its index. */
  number: number;
  /** `<job id>` or `<parent job id>:<index>`. */
  jobId: string;
  status: TaskStatus;
  /** Attempts started so far. */
  attempts: number;
  /** N_TO_N twins (child `index` of each N_TO_N dependency) not succeeded yet. */
  pendingTwins: number;
  exitCode?: number;
  reason?: string;
  statusReason?: string;
  /** The first attempt's start and the last one's end. */
  startedAt?: number;
  stoppedAt?: number;
}

/** One step of the run: its task jobs and barrier jobs, and counts over its tasks. */
export interface LocalStep {
  name: string;
  width: number;
  jobs: LocalJob[];
  barriers: LocalJob[];
  /** Tasks per state. */
  counts: LocalCounts;
  /** Jobs (task and barrier) not finished yet; failed ones; succeeded barriers. */
  unfinishedJobs: number;
  failedJobs: number;
  succeededBarriers: number;
  startedAt?: number;
  stoppedAt?: number;
}

/** One job of the plan. Mutated by the scheduler. */
export interface LocalJob {
  planned: PlannedJob;
  /** A UUID-shaped id derived from the run id and job name (stable across runs of the same file). */
  jobId: string;
  step: LocalStep;
  /** The definition a task job runs (undefined for barriers). */
  definition?: LocalDefinition;
  /** The command every task runs (undefined: the image's own). */
  command?: string[];
  /** The environment every task shares (Batch's per-attempt variables are added at launch). */
  environment: Record<string, string>;
  array: boolean;
  tasks: LocalTask[];
  /** Plain dependencies not succeeded yet. */
  pendingDeps: number;
  /** Whether its dependencies let it start (Batch then spawns an array's children); never, when one failed. */
  released: boolean;
  /** Jobs with a plain dependency on this one. */
  dependents: LocalJob[];
  /** Jobs with an N_TO_N dependency on this one (same size). */
  twinDependents: LocalJob[];
  /** This job's tasks per state. */
  counts: LocalCounts;
  /** Tasks not finished; for a barrier, 1 until it is done. */
  unfinished: number;
  status: JobStatus;
  statusReason?: string;
  startedAt?: number;
  stoppedAt?: number;
}

/** A whole local run, before or while it runs. */
export interface LocalRunModel {
  plan: Plan;
  jobs: LocalJob[];
  steps: LocalStep[];
  /** Tasks over all steps (barriers not counted), as {@link Plan.taskCount}. */
  taskCount: number;
}

/** Where the tasks find the input file and write their output, as the executor shows them to a task. */
export interface TaskPaths {
  inputPath: string;
  outputDir: string;
}

/** A UUID-shaped job id: the first 128 bits of SHA-256 over the run id and the job's name. */
export function localJobId(runId: string, jobName: string): string {
  const hex = createHash("sha256").update(`local/${runId}/${jobName}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The rule the stack config keeps (workflow/spec.ts {@link shellPlaceholderProblem}) applied again to what a
 * local run would execute: the command a job's tasks run before `Ref::` substitution (the step's, else its
 * definition's) puts no placeholder inside a shell's `-c` script, so a file name never becomes shell code
 * here either. `batch-pipeline run` refuses such a job before any task starts (exit 2).
 * @returns the rule broken, naming the step or the definition, or undefined.
 */
export function shellProblemOf(job: LocalJob): string | undefined {
  const override = job.planned.request.containerOverrides?.command;
  const command = override ?? job.definition?.command;
  const problem = command && shellPlaceholderProblem(command);
  if (!problem) return undefined;
  return `${override ? `workflow step \`${job.step.name}\` command` : `jobDefinitions.${job.definition!.key}.command`} ${problem}`;
}

/**
 * The run's jobs and tasks. `definitionsByName` maps a request's `jobDefinition` (the name the plan was
 * made with) to its definition; barrier jobs need none.
 * @throws Error when a task job names a definition that is not there (a bug: the plan was made from the same config).
 */
export function buildModel(plan: Plan, definitionsByName: ReadonlyMap<string, LocalDefinition>, paths: TaskPaths): LocalRunModel {
  const steps = new Map(
    plan.steps.map((s): [string, LocalStep] => [
      s.name,
      { name: s.name, width: s.width, jobs: [], barriers: [], counts: localCounts(), unfinishedJobs: 0, failedJobs: 0, succeededBarriers: 0 },
    ]),
  );
  const byId = new Map<string, LocalJob>();
  const shared = { [BATCH_ENV.queue]: queueName(plan.jobQueue), [BATCH_ENV.computeEnvironment]: LOCAL_COMPUTE_ENVIRONMENT };
  const local = { [LOCAL_TASK_ENV.inputPath]: paths.inputPath, [LOCAL_TASK_ENV.outputDir]: paths.outputDir };
  const jobs = plan.jobs.map((planned) => {
    const step = steps.get(planned.step)!;
    const definition = planned.kind === "task" ? definitionsByName.get(planned.request.jobDefinition) : undefined;
    if (planned.kind === "task" && !definition) throw new Error(`job ${planned.id}: no local definition for job definition ${planned.request.jobDefinition}`);
    const container = definition ?? { environment: {}, parameters: {} };
    const command = jobCommand(container, planned.request);
    const job: LocalJob = {
      planned,
      jobId: localJobId(plan.runId, planned.request.jobName),
      step,
      ...(definition ? { definition } : {}),
      ...(command ? { command } : {}),
      environment: { ...jobEnvironment(container, planned.request), ...shared, ...local },
      array: planned.request.arrayProperties?.size !== undefined,
      tasks: [],
      pendingDeps: 0,
      released: false,
      dependents: [],
      twinDependents: [],
      counts: localCounts(),
      unfinished: planned.kind === "barrier" ? 1 : planned.taskCount,
      status: "PENDING",
    };
    if (planned.kind === "task") {
      for (let i = 0; i < planned.taskCount; i++) {
        const index = job.array ? i : -1;
        job.tasks.push({ job, index, number: planned.taskOffset + i, jobId: job.array ? `${job.jobId}:${i}` : job.jobId, status: "PENDING", attempts: 0, pendingTwins: 0 });
      }
      job.counts.PENDING = planned.taskCount;
      step.counts.PENDING += planned.taskCount;
      step.jobs.push(job);
    } else step.barriers.push(job);
    step.unfinishedJobs++;
    for (const dep of planned.dependsOn) {
      const on = byId.get(dep.id)!;
      if (dep.type === "N_TO_N") {
        on.twinDependents.push(job);
        for (const task of job.tasks) task.pendingTwins++;
      } else {
        on.dependents.push(job);
        job.pendingDeps++;
      }
    }
    byId.set(planned.id, job);
    return job;
  });
  return { plan, jobs, steps: [...steps.values()], taskCount: plan.taskCount };
}
