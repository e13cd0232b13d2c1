/**
 * One stateful model of AWS Batch for the tests and the benchmarks, on one clock (tests/support/clock.ts):
 * a job store (jobs, array parents and their children, each job's life in time, attempts), and the calls
 * the code under test makes (SubmitJob, ListJobs, DescribeJobs, TerminateJob, CancelJob) answered as Batch
 * documents them (the rules and their sources: tests/support/batchSemantics.ts), with what a test needs to
 * make Batch hard: listing lag, retention, an account-wide call-rate throttle and faults (a 429, a 500 or a
 * timeout after SubmitJob created the job, a 400, an access denied).
 *
 * Two adapters put it behind the code under test: {@link mockBatchModel} (aws-sdk-client-mock, in-process) and
 * {@link answerBatchHttp} (Batch's REST-JSON, for tests/e2e/awsStub.ts's endpoint that other processes call).
 * Scenarios are thin layers on it: the orchestrator's fault plans (tests/jobs/fakeBatch.ts), a run to cancel
 * or read the logs of (tests/cli/batchRunFake.ts), the demo account's timeline (tests/cli/demoAccount.ts), the
 * benchmarks' Batch (bench/sim.ts).
 *
 * Time. Every job has a {@link Life}: when it reached (or will reach) each state. Its status, `startedAt` and
 * `stoppedAt` are read from it at the clock's time, so a scenario can plan a job's whole future (the demo
 * account) or move it now ({@link BatchModel.move}, `job.status = …`), and TerminateJob plans the SIGKILL.
 * An array parent's state comes from its children's (when the scenario gives it children: a parent SubmitJob
 * creates has none, and is one job like any other). A job exists from its `createdAt`; ListJobs shows it
 * `listLagMs` later (and, for tests whose clock does not move, `listedFromCall`: only from that ListJobs call
 * on); finished jobs drop out `retentionMs` after they stopped.
 */
import type { AttemptDetail, JobDependency, JobDetail, JobStatus, JobSummary, KeyValuePair, ListJobsCommandInput, SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { CancelJobCommand, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand, TerminateJobCommand } from "@aws-sdk/client-batch";
import type { AwsStub } from "aws-sdk-client-mock";
import { JOB_NAME_PATTERN } from "../../contract";
import { MAX_ARRAY_SIZE } from "../../workflow/planner";
import { MAX_DEPENDENCIES_PER_JOB } from "../../workflow/requestLimits";
import {
  arrayParentStatus,
  batchClientError,
  cancellable,
  DESCRIBE_JOBS_MAX,
  jobNameFilter,
  LISTED_WITHOUT_STATUS,
  listFilterMatches,
  listPage,
  newestFirst,
  SIGKILL_AFTER_MS,
  terminatesRunning,
  tooManyRequests,
} from "./batchSemantics";

export type Operation = "SubmitJob" | "ListJobs" | "DescribeJobs" | "TerminateJob" | "CancelJob";
export const JOB_STATES: readonly JobStatus[] = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"];
const TERMINAL: ReadonlySet<JobStatus | undefined> = new Set<JobStatus | undefined>(["SUCCEEDED", "FAILED"]);
const RANK: Record<JobStatus, number> = { SUBMITTED: 0, PENDING: 1, RUNNABLE: 2, STARTING: 3, RUNNING: 4, SUCCEEDED: 5, FAILED: 5 };

/**
 * When a job reached, or will reach, each state (ms; unset: not planned). Read top down: stopped (SUCCEEDED,
 * or FAILED with `failed`), RUNNING, STARTING, RUNNABLE, PENDING, else SUBMITTED.
 */
export interface Life {
  pending?: number;
  runnable?: number;
  starting?: number;
  running?: number;
  stopped?: number;
  failed?: boolean;
  /** The status reason that comes with the stop (shown once stopped). */
  reason?: string;
}

/** One attempt of a job: DescribeJobs lists it in `attempts` once it ended; the latest started one is the job's `container`. */
export interface Attempt {
  /** When it started (Batch: RUNNING; the demo account's tasks: STARTING): its log stream exists from then on. */
  startedAt: number;
  stoppedAt?: number;
  exitCode?: number;
  statusReason?: string;
  logStreamName?: string;
}

const stateAt = (life: Life, t: number): JobStatus =>
  life.stopped !== undefined && t >= life.stopped
    ? life.failed
      ? "FAILED"
      : "SUCCEEDED"
    : life.running !== undefined && t >= life.running
      ? "RUNNING"
      : life.starting !== undefined && t >= life.starting
        ? "STARTING"
        : life.runnable !== undefined && t >= life.runnable
          ? "RUNNABLE"
          : life.pending !== undefined && t >= life.pending
            ? "PENDING"
            : "SUBMITTED";

/** A life that reached `status` at `at` (every earlier state at `at` too). */
export function lifeAt(status: JobStatus, at: number, reason?: string): Life {
  const rank = RANK[status];
  const life: Life = {};
  if (rank >= 1) life.pending = at;
  if (rank >= 2) life.runnable = at;
  if (rank >= 3) life.starting = at;
  if (rank >= 4) life.running = at;
  if (rank >= 5) {
    life.stopped = at;
    if (status === "FAILED") life.failed = true;
    if (reason) life.reason = reason;
  }
  return life;
}

/** A SUBMITTED job's life, shared until the job moves (a million submitted jobs share it). */
const NO_LIFE: Life = Object.freeze({});

/** A job, array parent or array child in the model. Its status, `startedAt` and `stoppedAt` are as of the model's clock. */
export class ModelJob {
  declare jobDefinition?: string;
  declare dependsOn?: JobDependency[];
  /** What DescribeJobs shows in `container` besides the attempt's (environment, log configuration…). */
  declare container?: { environment?: KeyValuePair[]; [key: string]: unknown };
  declare tags?: Record<string, string>;
  declare parameters?: Record<string, string>;
  declare shareIdentifier?: string;
  /** Shown from now on (TerminateJob's reason); a stop's own reason is {@link Life.reason}. */
  declare statusReason?: string;
  declare attempts?: Attempt[];
  /** Array parents: their size, and (when the scenario models them) their children's lives, spawned from `spawnedAt`. */
  declare arraySize?: number;
  declare childLives?: Life[];
  declare spawnedAt?: number;
  /** The children made into jobs so far (a child is one only once a call or a test needs it), by index. */
  declare childJobs?: (ModelJob | undefined)[];
  /** Changes to the children's lives since they were given. */
  declare childChanges?: number;
  declare childCreatedAt?: (index: number) => number;
  /** ListJobs shows the job from this time on. @default createdAt + the model's listLagMs */
  declare listedFrom?: number;
  /** ListJobs shows the job only from the ListJobs call with this number (1-based) on. */
  declare listedFromCall?: number;
  /** How long after TerminateJob a STARTING or RUNNING job stops. @default the model's killAfterMs */
  declare killAfterMs?: number;
  /** TerminateJob was called on it while it was unfinished. */
  declare terminatedAt?: number;

  constructor(
    readonly model: BatchModel,
    readonly jobId: string,
    public jobName: string,
    public jobQueue: string,
    public createdAt: number,
    public life: Life,
    /** Array children: their parent and index. */
    readonly parent?: ModelJob,
    readonly index?: number,
  ) {}

  /** An array parent's children, as jobs (all of them made now). */
  get children(): ModelJob[] | undefined {
    return this.childLives?.map((_, i) => this.model.childOf(this, i));
  }

  /** The status now; setting it moves the job now, as Batch would over time ({@link BatchModel.move}). */
  get status(): JobStatus {
    return this.model.statusOf(this, this.model.clock.now());
  }
  set status(status: JobStatus) {
    this.model.move(this, status);
  }

  get startedAt(): number | undefined {
    return this.model.detailOf(this, this.model.clock.now()).startedAt;
  }

  get stoppedAt(): number | undefined {
    return this.model.detailOf(this, this.model.clock.now()).stoppedAt;
  }
  /** Moves the stop of a finished job (a scene set in the past). */
  set stoppedAt(at: number | undefined) {
    this.model.setLife(this, { ...this.life, stopped: at });
  }
}

/** How one call goes wrong. */
export interface Fault {
  /** The error, or how to make it from the call's input. */
  error: Error | ((input: any) => Error);
  /** SubmitJob only: Batch created the job before the call failed (a 500, a timeout: SubmitJob has no client token). */
  creates?: boolean;
  /** A job it creates stays unlisted for this many ListJobs calls. @default the model's listLagCalls */
  listLagCalls?: number;
  /** Only calls whose input this accepts. */
  when?: (input: any) => boolean;
  /** How many calls it answers. @default 1 */
  times?: number;
}

/** One call the model answered (or refused), when {@link BatchModelOptions.recordCalls}. */
export interface ModelCall {
  command: Operation;
  input: any;
  at: number;
}

/** What a scenario adds: a job, with its life, or its status since `createdAt`. */
export interface JobSpec {
  jobId: string;
  jobName: string;
  jobQueue: string;
  /** @default now */
  createdAt?: number;
  /** @default SUBMITTED since createdAt */
  status?: JobStatus;
  life?: Life;
  jobDefinition?: string;
  dependsOn?: JobDependency[];
  container?: ModelJob["container"];
  tags?: Record<string, string>;
  statusReason?: string;
  attempts?: Attempt[];
  arraySize?: number;
  listedFrom?: number;
  listedFromCall?: number;
  killAfterMs?: number;
}

/** A child to give an array parent: its life (or status since `createdAt`) and attempts. */
export interface ChildSpec {
  createdAt?: number;
  status?: JobStatus;
  life?: Life;
  attempts?: Attempt[];
  statusReason?: string;
}

export interface BatchModelOptions {
  clock?: { now(): number };
  /** @default eu-west-1 */
  region?: string;
  /** @default 123456789012 */
  account?: string;
  /** @default 0 */
  listLagMs?: number;
  /** @default 0 */
  listLagCalls?: number;
  /** AWS documents no retention period for finished jobs: a day is the worst case the tests take. @default 24 h */
  retentionMs?: number;
  /** @default SIGKILL_AFTER_MS (30 s) */
  killAfterMs?: number;
  /** An account-wide call rate: a token bucket of `perSecond` (burst of as many) that `operations` share; past it, HTTP 429. */
  throttle?: { perSecond: number; operations: readonly Operation[] };
  /** The status SubmitJob creates jobs in. @default SUBMITTED */
  submitStatus?: JobStatus;
  /** The id SubmitJob gives its `n`th job (1-based). @default a UUID-shaped counter */
  jobIdOf?: (input: SubmitJobCommandInput, n: number) => string;
  /** Keep every call in {@link BatchModel.calls}. @default false */
  recordCalls?: boolean;
  /** Keep only what ListJobs shows of a submitted job (a benchmark that submits a million). @default false */
  lean?: boolean;
  /** The attempts of a job that holds none, worked out when it is described (a scenario's 100,000 tasks). */
  attemptsOf?: (job: ModelJob) => Attempt[] | undefined;
}

const frozenClock = (at: number) => ({ now: () => at });

/** The states a life passes before it stops, with their rank. */
const STEPS = [
  ["pending", 1],
  ["runnable", 2],
  ["starting", 3],
  ["running", 4],
] as const;

/** Options of {@link BatchModel.move}. */
export interface MoveOptions {
  at?: number;
  reason?: string;
  exitCode?: number;
  stream?: (job: ModelJob, attempt: number) => string;
  /** Cancelled before it ran: no attempt. */
  cancelled?: boolean;
}

/** An array parent's children at one time: counts by state, its state, the first start, the last stop (read when all stopped). */
interface Aggregate {
  counts: Record<JobStatus, number>;
  status: JobStatus;
  startedAt?: number;
  stoppedAt?: number;
}

/**
 * When each child reached at least each state, sorted: `reached[k]` for PENDING, RUNNABLE, STARTING, RUNNING
 * and stopped, a child's time being the earliest of its own times for that state or a later one (so a child
 * is in the latest state whose time has come, as `stateAt` reads a life); `failedStops`: the stops of the
 * children that fail.
 */
interface ChildIndex {
  lives: Life[];
  changes: number;
  reached: Float64Array[];
  failedStops: Float64Array;
  firstRunning: number;
  lastStop: number;
}

function indexChildren(lives: Life[], changes: number): ChildIndex {
  const reached = [0, 1, 2, 3, 4].map(() => new Float64Array(lives.length));
  const failed: number[] = [];
  let firstRunning = Infinity;
  let lastStop = -Infinity;
  lives.forEach((life, i) => {
    let earliest = life.stopped ?? Infinity;
    reached[4]![i] = earliest;
    for (const [k, key] of [[3, "running"], [2, "starting"], [1, "runnable"], [0, "pending"]] as const) {
      const at = life[key];
      if (at !== undefined && at < earliest) earliest = at;
      reached[k]![i] = earliest;
    }
    if (life.stopped !== undefined) {
      if (life.failed) failed.push(life.stopped);
      if (life.stopped > lastStop) lastStop = life.stopped;
    }
    if (life.running !== undefined && life.running < firstRunning) firstRunning = life.running;
  });
  for (const times of reached) times.sort();
  return { lives, changes, reached, failedStops: Float64Array.from(failed).sort(), firstRunning, lastStop };
}

/** How many of the sorted `times` are at most `t`. */
function upTo(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The model. See the file's comment. */
export class BatchModel {
  clock: { now(): number };
  listLagMs: number;
  listLagCalls: number;
  retentionMs: number;
  killAfterMs: number;
  submitStatus: JobStatus;
  throttle?: { perSecond: number; operations: readonly Operation[] };
  /** Jobs that never stop once terminated (their host is gone, and Batch has not noticed). */
  readonly stuck = new Set<string>();
  /** Array children that the cancel of their parent does not cancel: they were reaching STARTING just then. */
  readonly slipThrough = new Set<string>();
  /** Every call, when recording (see {@link BatchModelOptions.recordCalls}). */
  readonly calls: ModelCall[] = [];
  /** TerminateJob and CancelJob calls taken (not refused), in order. */
  readonly terminated: { jobId: string; reason: string; at: number }[] = [];
  /** Calls per operation: answered, throttled (429 from the rate), failed (a fault, a refusal). */
  readonly stats: Record<Operation, { calls: number; throttled: number; failed: number }> = {
    SubmitJob: { calls: 0, throttled: 0, failed: 0 },
    ListJobs: { calls: 0, throttled: 0, failed: 0 },
    DescribeJobs: { calls: 0, throttled: 0, failed: 0 },
    TerminateJob: { calls: 0, throttled: 0, failed: 0 },
    CancelJob: { calls: 0, throttled: 0, failed: 0 },
  };
  /** Jobs SubmitJob created. */
  created = 0;
  /** Called after every call answered; what it throws, the call throws. */
  afterCall?: (command: Operation, input: any) => void;

  private readonly store = new Map<string, ModelJob>();
  private readonly faults: { command: Operation; fault: Fault; left: number }[] = [];
  private readonly pending: { names: string[]; build: () => void }[] = [];
  private readonly region: string;
  private readonly account: string;
  private readonly jobIdOf: (input: SubmitJobCommandInput, n: number) => string;
  private readonly recordCalls: boolean;
  private readonly lean: boolean;
  private readonly attemptsOf?: (job: ModelJob) => Attempt[] | undefined;
  private listCalls = 0;
  private tokens?: number;
  private refilledAt = 0;

  constructor(options: BatchModelOptions = {}) {
    this.clock = options.clock ?? frozenClock(0);
    this.region = options.region ?? "eu-west-1";
    this.account = options.account ?? "123456789012";
    this.listLagMs = options.listLagMs ?? 0;
    this.listLagCalls = options.listLagCalls ?? 0;
    this.retentionMs = options.retentionMs ?? 24 * 3_600_000;
    this.killAfterMs = options.killAfterMs ?? SIGKILL_AFTER_MS;
    this.submitStatus = options.submitStatus ?? "SUBMITTED";
    this.throttle = options.throttle;
    this.jobIdOf = options.jobIdOf ?? ((_input, n) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`);
    this.recordCalls = options.recordCalls ?? false;
    this.lean = options.lean ?? false;
    this.attemptsOf = options.attemptsOf;
  }

  // ---- the store ----------------------------------------------------------------------------------------

  /** Top-level jobs (array parents and plain jobs), in the order they were added. */
  get jobs(): ModelJob[] {
    this.build();
    return [...this.store.values()];
  }

  /** The job or array child with this id, built or not. */
  find(jobId: string): ModelJob | undefined {
    const job = this.store.get(jobId);
    if (job) return job;
    const colon = jobId.lastIndexOf(":");
    if (colon > 0) {
      const parent = this.store.get(jobId.slice(0, colon));
      const index = Number(jobId.slice(colon + 1));
      if (parent?.childLives && Number.isInteger(index) && index >= 0 && index < parent.childLives.length) return this.childOf(parent, index);
    }
    if (this.pending.length > 0) {
      this.build();
      return this.find(jobId);
    }
    return undefined;
  }

  /** Jobs named `jobName`, oldest first. */
  named(jobName: string): ModelJob[] {
    return this.jobs.filter((j) => j.jobName === jobName).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Adds a job Batch knows (a start job, an earlier attempt's, a scenario's). */
  add(spec: JobSpec): ModelJob {
    const createdAt = spec.createdAt ?? this.clock.now();
    const life = spec.life ?? (spec.status && spec.status !== "SUBMITTED" ? lifeAt(spec.status, createdAt) : NO_LIFE);
    const job = new ModelJob(this, spec.jobId, spec.jobName, spec.jobQueue, createdAt, life);
    for (const key of ["jobDefinition", "dependsOn", "container", "tags", "statusReason", "attempts", "arraySize", "listedFrom", "listedFromCall", "killAfterMs"] as const) {
      if (spec[key] !== undefined) (job as any)[key] = spec[key];
    }
    this.store.set(job.jobId, job);
    return job;
  }

  /**
   * Gives array parent `parent` its children (index order), spawned (listed, described, counted in its
   * `statusSummary`) from `spawnedAt` (@default at once): specs, or only their lives and creation times (a
   * child becomes a job of its own only when a call or a test needs it).
   */
  addChildren(parent: ModelJob, children: readonly ChildSpec[] | { lives: Life[]; createdAt: (index: number) => number }, spawnedAt = -Infinity): void {
    parent.spawnedAt = spawnedAt;
    parent.childJobs = [];
    if (!Array.isArray(children)) {
      const { lives, createdAt } = children as { lives: Life[]; createdAt: (index: number) => number };
      parent.arraySize ??= lives.length;
      parent.childLives = lives;
      parent.childCreatedAt = createdAt;
      return;
    }
    const specs = children as readonly ChildSpec[];
    parent.arraySize ??= specs.length;
    const created = specs.map((spec) => spec.createdAt ?? parent.createdAt);
    parent.childCreatedAt = (index) => created[index]!;
    parent.childLives = specs.map((spec, index) => spec.life ?? (spec.status && spec.status !== "SUBMITTED" ? lifeAt(spec.status, created[index]!) : NO_LIFE));
    specs.forEach((spec, index) => {
      if (!spec.attempts && !spec.statusReason) return;
      const child = this.childOf(parent, index);
      if (spec.attempts) child.attempts = spec.attempts;
      if (spec.statusReason) child.statusReason = spec.statusReason;
    });
  }

  /** Child `index` of array parent `parent`, as a job (made on first need). */
  childOf(parent: ModelJob, index: number): ModelJob {
    const made = parent.childJobs![index];
    if (made) return made;
    const child = new ModelJob(this, `${parent.jobId}:${index}`, parent.jobName, parent.jobQueue, parent.childCreatedAt!(index), parent.childLives![index]!, parent, index);
    parent.childJobs![index] = child;
    return child;
  }

  /** Gives `job` a new life (a child's is its parent's record too). */
  setLife(job: ModelJob, life: Life): void {
    job.life = life;
    if (job.parent) {
      job.parent.childLives![job.index!] = life;
      job.parent.childChanges = (job.parent.childChanges ?? 0) + 1;
    }
  }

  /**
   * Jobs a scenario builds only when a call first needs them: a ListJobs whose `JOB_NAME` filter may match a
   * name starting with one of `names` (case-insensitive), or any other call that a built job could answer.
   */
  lazy(names: readonly string[], build: () => void): void {
    this.pending.push({ names: names.map((n) => n.toLowerCase()), build });
  }

  /** Builds the lazy jobs `matches` selects (@default all). */
  private build(matches: (names: string[]) => boolean = () => true): void {
    for (let i = 0; i < this.pending.length; ) {
      const entry = this.pending[i]!;
      if (!matches(entry.names)) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      entry.build();
    }
  }

  /**
   * Moves `job` to `status` at `at` (@default now), as Batch would over time: the states in between are
   * passed at `at` too; reaching RUNNING starts an attempt (its log stream named by `stream`), leaving it ends
   * the attempt (with `exitCode`); a job that ends without having run this attempt ran through it, unless it
   * was `cancelled`. Moving an array parent with children moves its unfinished children. What was planned
   * for after `at` is dropped.
   */
  move(job: ModelJob, status: JobStatus, options: MoveOptions = {}): void {
    const at = options.at ?? this.clock.now();
    if (job.childLives) {
      job.childLives.forEach((life, i) => !TERMINAL.has(stateAt(life, at)) && this.move(this.childOf(job, i), status, options));
      return;
    }
    const from = stateAt(job.life, at);
    const rank = RANK[status];
    const life: Life = {};
    for (const [key, r] of STEPS) {
      const reached = job.life[key];
      if (reached !== undefined && reached <= at && r <= rank && !(key === "running" && status === "RUNNING" && from !== "RUNNING")) life[key] = reached;
    }
    for (const [key, r] of STEPS) if (r <= rank && life[key] === undefined) life[key] = at;
    if (rank === 5) Object.assign(life, { stopped: at, ...(status === "FAILED" ? { failed: true } : {}), ...(options.reason ? { reason: options.reason } : {}) });
    const attempts = [...(job.attempts ?? [])];
    const last = attempts.at(-1);
    const open = last && (last.stoppedAt === undefined || last.stoppedAt > at) ? last : undefined;
    const close = () => (attempts[attempts.length - 1] = { ...open!, stoppedAt: at, ...(options.exitCode !== undefined ? { exitCode: options.exitCode } : {}) });
    const start = () => attempts.push({ startedAt: at, ...(options.stream ? { logStreamName: options.stream(job, attempts.length) } : {}) });
    if (status === "RUNNING") {
      if (from !== "RUNNING") {
        if (open) close();
        start();
      }
    } else if (open && (from === "RUNNING" || rank === 5)) close();
    else if (rank === 5 && from !== "RUNNING" && !options.cancelled && !TERMINAL.has(from)) {
      start();
      attempts[attempts.length - 1] = { ...attempts.at(-1)!, stoppedAt: at, ...(options.exitCode !== undefined ? { exitCode: options.exitCode } : {}) };
    }
    this.setLife(job, life);
    if (attempts.length > 0) job.attempts = attempts;
  }

  private readonly indexes = new WeakMap<ModelJob, ChildIndex>();

  /**
   * What `parent`'s children add up to at `t`: how many are in each state, the first start, the last stop.
   * From an index of when each child reached each state (built once per change to the children), a
   * binary search per state: a 10,000-child array polled 300 times costs 300 searches, not 3 million reads.
   */
  private aggregate(parent: ModelJob, t: number): Aggregate {
    const lives = parent.childLives!;
    let index = this.indexes.get(parent);
    if (!index || index.lives !== lives || index.changes !== (parent.childChanges ?? 0)) {
      index = indexChildren(lives, parent.childChanges ?? 0);
      this.indexes.set(parent, index);
    }
    const reached = index.reached.map((times) => upTo(times, t));
    const failed = upTo(index.failedStops, t);
    const counts: Record<JobStatus, number> = {
      SUBMITTED: lives.length - reached[0]!,
      PENDING: reached[0]! - reached[1]!,
      RUNNABLE: reached[1]! - reached[2]!,
      STARTING: reached[2]! - reached[3]!,
      RUNNING: reached[3]! - reached[4]!,
      SUCCEEDED: reached[4]! - failed,
      FAILED: failed,
    };
    return { counts, status: arrayParentStatus(counts), startedAt: index.firstRunning <= t ? index.firstRunning : undefined, stoppedAt: Number.isFinite(index.lastStop) ? index.lastStop : undefined };
  }

  /** `job`'s status at `t`: its life's, or for an array parent with children, theirs (batchSemantics `arrayParentStatus`). */
  statusOf(job: ModelJob, t: number): JobStatus {
    const own = stateAt(job.life, t);
    if (!job.childLives || own === "SUBMITTED") return own;
    return job.childLives.length === 0 ? own : this.aggregate(job, t).status;
  }

  // ---- what DescribeJobs and ListJobs show --------------------------------------------------------------

  /** DescribeJobs' view of `job` at `t`. */
  detailOf(job: ModelJob, t: number): JobDetail {
    const status = this.statusOf(job, t);
    const done = TERMINAL.has(status);
    const kids = job.childLives;
    const spawned = kids !== undefined && t >= (job.spawnedAt ?? -Infinity);
    let startedAt: number | undefined;
    let stoppedAt: number | undefined;
    let summary: Record<string, number> | undefined;
    if (kids && kids.length > 0) {
      const aggregate = this.aggregate(job, t);
      if (spawned) summary = { ...aggregate.counts };
      startedAt = aggregate.startedAt;
      if (done) stoppedAt = aggregate.stoppedAt ?? job.life.stopped;
    } else {
      if (job.life.running !== undefined && job.life.running <= t) startedAt = job.life.running;
      if (done) stoppedAt = job.life.stopped;
    }
    const started = (job.attempts ?? (kids ? undefined : this.attemptsOf?.(job)) ?? []).filter((a) => a.startedAt <= t);
    const current = started.at(-1);
    const ended = started.filter((a) => a.stoppedAt !== undefined && a.stoppedAt <= t);
    const exitCode = done && current?.stoppedAt !== undefined && current.stoppedAt <= t ? current.exitCode : undefined;
    const reason = job.statusReason ?? (done ? (job.life.reason ?? (kids && status === "FAILED" ? "Array Child Job failed" : current?.statusReason)) : undefined);
    const parent = job.parent;
    const definition = job.jobDefinition ?? parent?.jobDefinition;
    const container = job.container ?? parent?.container;
    return {
      jobArn: this.arnOf(job.jobId),
      jobName: job.jobName,
      jobId: job.jobId,
      jobQueue: job.jobQueue,
      status,
      ...(reason ? { statusReason: reason } : {}),
      createdAt: job.createdAt,
      startedAt: startedAt as number,
      ...(stoppedAt !== undefined ? { stoppedAt } : {}),
      dependsOn: job.dependsOn ?? parent?.dependsOn ?? [],
      jobDefinition: definition ?? "",
      ...(job.tags ? { tags: job.tags } : {}),
      ...(job.parameters ? { parameters: job.parameters } : {}),
      container: { ...container, ...(exitCode !== undefined ? { exitCode } : {}), ...(current?.logStreamName ? { logStreamName: current.logStreamName } : {}) },
      attempts: ended.map(
        (a): AttemptDetail => ({
          container: { ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}), ...(a.logStreamName ? { logStreamName: a.logStreamName } : {}) },
          startedAt: a.startedAt,
          stoppedAt: a.stoppedAt,
          ...(a.statusReason ? { statusReason: a.statusReason } : {}),
        }),
      ),
      ...(job.arraySize !== undefined ? { arrayProperties: { size: job.arraySize, ...(summary ? { statusSummary: summary } : {}) } } : {}),
      ...(job.index !== undefined ? { arrayProperties: { index: job.index } } : {}),
    } as JobDetail;
  }

  /** ListJobs' view of `job` at `t`. */
  summaryOf(job: ModelJob, t: number): JobSummary {
    const d = this.detailOf(job, t);
    return {
      jobArn: d.jobArn,
      jobId: d.jobId,
      jobName: d.jobName,
      createdAt: d.createdAt,
      status: d.status,
      ...(d.statusReason ? { statusReason: d.statusReason } : {}),
      ...(d.startedAt !== undefined ? { startedAt: d.startedAt } : {}),
      ...(d.stoppedAt !== undefined ? { stoppedAt: d.stoppedAt } : {}),
      jobDefinition: d.jobDefinition,
      ...(d.arrayProperties ? { arrayProperties: d.arrayProperties } : {}),
      container: { exitCode: d.container?.exitCode },
    };
  }

  arnOf(jobId: string): string {
    return `arn:aws:batch:${this.region}:${this.account}:job/${jobId}`;
  }

  /** Whether Batch still shows `job` at `t`: created, and not dropped `retentionMs` after it stopped. */
  private exists(job: ModelJob, t: number): boolean {
    if (t < job.createdAt) return false;
    if (!Number.isFinite(this.retentionMs)) return true;
    const status = this.statusOf(job, t);
    if (!TERMINAL.has(status)) return true;
    const stopped = job.childLives?.length ? this.aggregate(job, t).stoppedAt : job.life.stopped;
    return stopped === undefined || stopped >= t - this.retentionMs;
  }

  private listed(job: ModelJob, t: number, call: number): boolean {
    return this.exists(job, t) && t >= (job.listedFrom ?? job.createdAt + this.listLagMs) && call >= (job.listedFromCall ?? 0);
  }

  // ---- calls --------------------------------------------------------------------------------------------

  /** The next calls of `command` (those `when` accepts) fail, one fault each, in order. */
  failNext(command: Operation, ...faults: Fault[]): this {
    for (const fault of faults) this.faults.push({ command, fault, left: fault.times ?? 1 });
    return this;
  }

  /** Calls received since `from` (an index into {@link calls}), by command. */
  countSince(from = 0): { ListJobs: number; DescribeJobs: number } {
    const count = (command: Operation) => this.calls.slice(from).filter((c) => c.command === command).length;
    return { ListJobs: count("ListJobs"), DescribeJobs: count("DescribeJobs") };
  }

  /** Answers one call as Batch would, or throws what Batch would answer instead. */
  call(command: Operation, input: any): any {
    const at = this.clock.now();
    if (this.recordCalls) this.calls.push({ command, input, at });
    const stats = this.stats[command];
    stats.calls++;
    const k = this.faults.findIndex((f) => f.command === command && (!f.fault.when || f.fault.when(input)));
    const fault = k >= 0 ? this.faults[k]!.fault : undefined;
    if (k >= 0 && --this.faults[k]!.left <= 0) this.faults.splice(k, 1);
    const error = fault && (typeof fault.error === "function" ? fault.error(input) : fault.error);
    if (fault && !(command === "SubmitJob" && fault.creates)) {
      stats.failed++;
      throw error;
    }
    if (this.throttle?.operations.includes(command) && !this.takeToken(at)) {
      stats.throttled++;
      throw tooManyRequests();
    }
    let output: unknown;
    try {
      switch (command) {
        case "SubmitJob":
          output = this.submitJob(input, fault);
          break;
        case "ListJobs":
          output = this.listJobs(input);
          break;
        case "DescribeJobs":
          output = this.describeJobs(input.jobs ?? []);
          break;
        case "TerminateJob":
          output = this.terminateJob(input, "terminate");
          break;
        case "CancelJob":
          output = this.terminateJob(input, "cancel");
          break;
      }
      this.afterCall?.(command, input);
    } catch (e) {
      stats.failed++;
      throw e;
    }
    if (error) {
      stats.failed++;
      throw error;
    }
    return output;
  }

  private takeToken(now: number): boolean {
    const rate = this.throttle!.perSecond;
    // The bucket starts full, when the throttle is first asked.
    this.tokens = this.tokens === undefined ? rate : Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private submitJob(input: SubmitJobCommandInput, fault: Fault | undefined) {
    const refuse = (message: string) => {
      throw batchClientError(message);
    };
    // Batch's limits on a job as the code under test knows them (their sources: docs/aws-batch-limits.md);
    // the messages are the model's own.
    for (const key of ["jobName", "jobQueue", "jobDefinition"] as const) if (!input[key]) refuse(`1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`);
    if (!JOB_NAME_PATTERN.test(input.jobName!)) refuse(`Job name ${input.jobName} is invalid: it can contain up to 128 letters (uppercase and lowercase), numbers, hyphens, and underscores, and must start with a letter or number`);
    const size = input.arrayProperties?.size;
    if (size !== undefined && (size < 2 || size > MAX_ARRAY_SIZE)) refuse(`Array size ${size} is invalid: an array job's size must be between 2 and ${MAX_ARRAY_SIZE}`);
    if ((input.dependsOn?.length ?? 0) > MAX_DEPENDENCIES_PER_JOB) refuse(`A job can depend on at most ${MAX_DEPENDENCIES_PER_JOB} jobs`);
    const n = ++this.created;
    const createdAt = this.clock.now();
    const job = this.add({
      jobId: this.jobIdOf(input, n),
      jobName: input.jobName!,
      jobQueue: input.jobQueue!,
      createdAt,
      status: this.submitStatus,
      ...(this.lean
        ? {}
        : {
            jobDefinition: input.jobDefinition,
            ...(input.dependsOn ? { dependsOn: input.dependsOn } : {}),
            ...(input.containerOverrides?.environment ? { container: { environment: input.containerOverrides.environment } } : {}),
            ...(input.tags ? { tags: input.tags } : {}),
          }),
      ...(size !== undefined ? { arraySize: size } : {}),
      ...((fault?.listLagCalls ?? this.listLagCalls) > 0 ? { listedFromCall: this.listCalls + 1 + (fault?.listLagCalls ?? this.listLagCalls) } : {}),
    });
    if (!this.lean && input.parameters) job.parameters = input.parameters;
    if (!this.lean && input.shareIdentifier) job.shareIdentifier = input.shareIdentifier;
    return { jobId: job.jobId, jobName: job.jobName, jobArn: this.arnOf(job.jobId) };
  }

  /** ListJobs as the ListJobs API reference documents it (tests/support/batchSemantics.ts). */
  private listJobs(input: ListJobsCommandInput) {
    const call = ++this.listCalls;
    const t = this.clock.now();
    if ([input.jobQueue, input.arrayJobId, input.multiNodeJobId].filter(Boolean).length !== 1) throw batchClientError("Exactly one of jobQueue, arrayJobId or multiNodeJobId must be specified");
    if ((input.filters?.length ?? 0) > 1) throw batchClientError("Only one filter can be used at a time");
    if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 1000)) throw batchClientError("maxResults must be between 1 and 1000");
    let rows: ModelJob[];
    if (input.arrayJobId) {
      // The filter doesn't apply to child jobs: they are listed by status, RUNNING without one.
      let parent = this.store.get(input.arrayJobId);
      if (!parent && this.pending.length > 0) parent = this.find(input.arrayJobId);
      const status = input.jobStatus ?? LISTED_WITHOUT_STATUS;
      rows = [];
      if (parent?.childLives && this.exists(parent, t) && t >= (parent.spawnedAt ?? -Infinity)) {
        parent.childLives.forEach((life, i) => stateAt(life, t) === status && rows.push(this.childOf(parent!, i)));
      }
    } else if (input.multiNodeJobId) {
      rows = [];
    } else {
      const filter = input.filters?.[0];
      const name = filter?.name === "JOB_NAME" ? String(filter.values?.[0] ?? "").toLowerCase() : undefined;
      this.build((names) => name === undefined || names.some((n) => (name.endsWith("*") ? n.startsWith(name.slice(0, -1)) || name.slice(0, -1).startsWith(n) : name.startsWith(n))));
      rows = [];
      // A job's `status` is read (as of now) only by the filters that need it.
      const byName = filter?.name === "JOB_NAME" ? jobNameFilter(String(filter.values?.[0] ?? "")) : undefined;
      const matches = byName ? (job: ModelJob) => byName(job.jobName) : (job: ModelJob) => listFilterMatches(filter, input.jobStatus, job);
      const onQueue = sameQueue(input.jobQueue!);
      for (const job of this.store.values()) {
        if (onQueue(job.jobQueue) && matches(job) && this.listed(job, t, call)) rows.push(job);
      }
      // Of jobs created in the same ms, the one added last first.
      rows = newestFirst(rows.reverse());
    }
    const page = listPage(rows, input.nextToken, input.maxResults ?? 100);
    return { jobSummaryList: page.items.map((j) => this.summaryOf(j, t)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  /** DescribeJobs: at most 100 ids (DescribeJobs API reference); ids Batch does not know (any more) are left out. */
  private describeJobs(ids: readonly string[]) {
    if (ids.length > DESCRIBE_JOBS_MAX) throw batchClientError(`1 validation error detected: Value at 'jobs' failed to satisfy constraint: Member must have length less than or equal to ${DESCRIBE_JOBS_MAX}`);
    const t = this.clock.now();
    const jobs: JobDetail[] = [];
    for (const id of ids) {
      const job = this.find(id);
      if (!job) continue;
      const parent = job.parent;
      if (parent ? !this.exists(parent, t) || t < (parent.spawnedAt ?? -Infinity) : !this.exists(job, t)) continue;
      jobs.push(this.detailOf(job, t));
    }
    return { jobs };
  }

  /**
   * TerminateJob (and CancelJob): a job not yet STARTING is cancelled (FAILED now); a STARTING or RUNNING one
   * gets SIGTERM and stops `killAfterMs` later (never if {@link stuck}), CancelJob leaves it be; an array
   * parent cancels its children not yet STARTING or RUNNING (save those in {@link slipThrough}), and ends when
   * they all have.
   */
  private terminateJob(input: { jobId?: string; reason?: string }, how: "terminate" | "cancel") {
    if (!input.jobId || input.reason === undefined) throw batchClientError("1 validation error detected: jobId and reason must not be null");
    const at = this.clock.now();
    const reason = input.reason;
    this.terminated.push({ jobId: input.jobId, reason, at });
    const job = this.find(input.jobId);
    if (!job) return {};
    const status = this.statusOf(job, at);
    if (TERMINAL.has(status)) return {};
    if (job.childLives) {
      job.statusReason = reason;
      job.terminatedAt = at;
      job.childLives.forEach((life, i) => {
        if (cancellable(stateAt(life, at)) && !this.slipThrough.has(`${job.jobId}:${i}`)) this.cancel(this.childOf(job, i), at, reason);
      });
      // A parent with no children ends now (its own life); one with live children, when they end.
      if (job.childLives.length === 0) this.move(job, "FAILED", { at, cancelled: true });
      return {};
    }
    if (terminatesRunning(status)) {
      if (how === "cancel") return {};
      job.statusReason = reason;
      job.terminatedAt = at;
      const after = job.killAfterMs ?? this.killAfterMs;
      const plannedStop = job.life.stopped;
      if (plannedStop !== undefined && plannedStop <= at + after) return {};
      if (!this.stuck.has(job.jobId) && Number.isFinite(after)) this.move(job, "FAILED", { at: at + after });
      return {};
    }
    job.terminatedAt = at;
    this.cancel(job, at, reason);
    return {};
  }

  private cancel(job: ModelJob, at: number, reason: string): void {
    job.statusReason = reason;
    this.move(job, "FAILED", { at, cancelled: true });
  }
}

/** A queue named by ARN or by name is the same queue. */
function sameQueue(wanted: string): (queue: string) => boolean {
  const name = (q: string) => (q.startsWith("arn:") ? q.slice(q.indexOf(":job-queue/") + ":job-queue/".length) : q);
  const names = new Map<string, boolean>();
  return (queue) => {
    if (queue === wanted) return true;
    let same = names.get(queue);
    if (same === undefined) names.set(queue, (same = name(queue) === name(wanted)));
    return same;
  };
}

// ---- adapters ---------------------------------------------------------------------------------------------

const COMMANDS = [
  [SubmitJobCommand, "SubmitJob"],
  [ListJobsCommand, "ListJobs"],
  [DescribeJobsCommand, "DescribeJobs"],
  [TerminateJobCommand, "TerminateJob"],
  [CancelJobCommand, "CancelJob"],
] as const;

/** The operation an SDK command object is, if the model answers it (for a client of one's own, e.g. the benchmarks'). */
export const operationOf = (command: unknown): Operation | undefined => COMMANDS.find(([type]) => command instanceof type)?.[1];

/**
 * aws-sdk-client-mock: `mock` (a mocked BatchClient) answers Batch's calls from `model`, as a promise (an
 * error rejects it), as a real client does.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
export function mockBatchModel(mock: AwsStub<any, any, any>, model: BatchModel): BatchModel {
  for (const [command, name] of COMMANDS) {
    mock.on(command as any).callsFake((input: unknown) => {
      try {
        return Promise.resolve(model.call(name, input));
      } catch (error) {
        return Promise.reject(error);
      }
    });
  }
  return model;
}

/** Batch's REST-JSON paths (`POST /v1/submitjob`, …) and the operation each is. */
const HTTP_PATHS: Record<string, Operation> = Object.fromEntries(COMMANDS.map(([, name]) => [`/v1/${name.toLowerCase()}`, name]));

/** What an HTTP endpoint answers: a status, headers and a JSON body, or `drop` (no response at all: a timeout). */
export type HttpAnswer = { status: number; headers: Record<string, string>; body: unknown } | "drop";

/**
 * Batch over HTTP (REST-JSON, as the SDK sends it to AWS_ENDPOINT_URL): the operation a `POST /v1/<name>`
 * is, answered from `model`; an error as Batch sends it (its status, `x-amzn-errortype`, a message), one
 * without an HTTP status (a timeout) as no answer. Undefined for a path that is not Batch's.
 */
export function answerBatchHttp(model: BatchModel, method: string | undefined, url: string | undefined, body: unknown): { operation: Operation; answer: HttpAnswer } | undefined {
  const operation = method === "POST" ? HTTP_PATHS[(url ?? "").split("?")[0]!] : undefined;
  if (!operation) return undefined;
  const json = { "content-type": "application/json" };
  try {
    return { operation, answer: { status: 200, headers: json, body: model.call(operation, body) } };
  } catch (e) {
    const error = e as Error & { $metadata?: { httpStatusCode?: number } };
    const status = error.$metadata?.httpStatusCode;
    if (status === undefined) return { operation, answer: "drop" };
    return { operation, answer: { status, headers: { ...json, "x-amzn-errortype": error.name }, body: { message: error.message } } };
  }
}
