/**
 * A run's plan as a Mermaid `flowchart TD`, for pull requests and docs: one node per step (its name,
 * width and how many jobs or array jobs run it), one node per step's barrier tree (however many
 * barrier jobs and levels it has, so a million-task fan-in stays a handful of nodes), and edges as the
 * jobs depend on each other, N_TO_N ones labelled. Also the `--size` parser of `plan`.
 */
import { InvalidArgumentError } from "commander";
import type { Plan, PlannedJob } from "../../workflow/planner";
import { fmtInt, terminalText } from "../app/format";

/** Units `--size` accepts: decimal (KB = 1,000 bytes) and binary (KiB = 1,024 bytes), as `formatBytes` prints them. */
const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, pb: 1e15,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, pib: 2 ** 50,
};

/** The default sample size of `plan`: 1 GiB. */
export const DEFAULT_SAMPLE_BYTES = 2 ** 30;

/**
 * Parses `--size`: bytes (`1073741824`) or a number with a unit (`500MB`, `10GiB`, `1.5TB`; any case),
 * rounded to whole bytes, up to the largest size the start job accepts (`Number.MAX_SAFE_INTEGER`).
 * @throws InvalidArgumentError (commander prints it as a usage error) naming the forms it takes.
 */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[(m[2] || "b").toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError(`must be a size in bytes (1073741824) or with a unit (500MB, 10GiB: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), at most ${fmtInt(Number.MAX_SAFE_INTEGER)} bytes`);
  }
  return bytes;
}

/** Mermaid node ids: a letter, then letters, digits and `_` (no keyword such as `end`, no `-` to read as an arrow). */
export const MERMAID_ID = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Text inside a quoted Mermaid label: characters Mermaid or HTML would read as syntax become entity codes (`#34;`). */
function label(text: string): string {
  return text.replace(/[#"<>&[\]{}|]/g, (c) => `#${c.charCodeAt(0)};`);
}


const plural = (n: number, one: string, many = `${one}s`) => `${fmtInt(n)} ${n === 1 ? one : many}`;

/** Levels of a step's barrier tree: a barrier waiting on barriers is one level above them. */
function barrierLevels(barriers: readonly PlannedJob[]): number {
  const level = new Map<string, number>();
  for (const b of barriers) level.set(b.id, 1 + Math.max(0, ...b.dependsOn.map((d) => level.get(d.id) ?? 0)));
  return Math.max(0, ...level.values());
}

/**
 * The plan as a Mermaid flowchart. Node ids are `s<index>_<step>` (`-` becomes `_`), so they are valid
 * and unique whatever the step names; labels are quoted and escaped. A comment line says what was
 * planned (run id, jobs, tasks, input).
 */
export function renderPlanMermaid(plan: Plan): string {
  const stepId = new Map(plan.steps.map((s, i) => [s.name, `s${i}_${s.name.replace(/[^A-Za-z0-9_]/g, "_")}`]));
  const jobsOf = new Map<string, PlannedJob[]>();
  for (const job of plan.jobs) jobsOf.set(job.step, [...(jobsOf.get(job.step) ?? []), job]);
  const stepOfJob = new Map(plan.jobs.map((j) => [j.id, j.step]));
  const { input } = plan;
  const lines = [
    "flowchart TD",
    `  %% ${terminalText(`run ${plan.runId}: ${plural(plan.steps.length, "step")}, ${plural(plan.jobs.length, "SubmitJob call")}, ${plural(plan.taskCount, "task")}; input s3://${input.bucket}/${input.key} (${plural(input.sizeBytes, "byte")})`)}`,
  ];
  const edges: string[] = [];
  const barrierNodes: string[] = [];
  const edge = (from: string, to: string, type?: string) => {
    const line = `  ${from} -->${type ? `|${type}|` : ""} ${to}`;
    if (!edges.includes(line)) edges.push(line);
  };
  for (const step of plan.steps) {
    const id = stepId.get(step.name)!;
    const jobs = jobsOf.get(step.name) ?? [];
    const tasks = jobs.filter((j) => j.kind === "task");
    const barriers = jobs.filter((j) => j.kind === "barrier");
    const runs = step.width === 1 ? "1 job" : plural(tasks.length, "array job");
    lines.push(`  ${id}["${label(step.name)}<br/>${label(`${plural(step.width, "task")} · ${runs}`)}"]`);
    const barrierIds = new Set(barriers.map((b) => b.id));
    const tree = `${id}_barriers`;
    if (barriers.length > 0) {
      const levels = barrierLevels(barriers);
      lines.push(`  ${tree}{{"${label(`${plural(barriers.length, "barrier job")}${levels > 1 ? ` in ${levels} levels` : ""}`)}"}}`);
      barrierNodes.push(tree);
      for (const b of barriers) for (const d of b.dependsOn) if (!barrierIds.has(d.id)) edge(stepId.get(stepOfJob.get(d.id)!)!, tree);
    }
    for (const t of tasks) {
      for (const d of t.dependsOn) edge(barrierIds.has(d.id) ? tree : stepId.get(stepOfJob.get(d.id)!)!, id, d.type);
    }
  }
  lines.push(...edges);
  if (barrierNodes.length > 0) lines.push("  classDef barrier stroke-dasharray: 4 3", `  class ${barrierNodes.join(",")} barrier`);
  return lines.join("\n");
}
