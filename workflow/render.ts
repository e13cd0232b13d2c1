/** Human-readable rendering of a plan, for `--dry-run --format tree`. */
import type { Plan, PlannedDependency, PlannedJob } from "./planner";

const fmt = (n: number) => n.toLocaleString("en-US");

/** Shows the first few dependencies only: a merge after a wide step would otherwise print a hundred ids. */
function describeDeps(deps: readonly PlannedDependency[]): string {
  if (deps.length === 0) return "";
  const shown = deps.slice(0, 3).map((d) => (d.type ? `${d.id} (${d.type})` : d.id));
  const more = deps.length > shown.length ? `, … +${deps.length - shown.length} more` : "";
  return `  after ${shown.join(", ")}${more}`;
}

function describeJob(job: PlannedJob): string {
  const what =
    job.kind === "barrier"
      ? "barrier"
      : job.taskCount > 1
        ? `array ×${fmt(job.taskCount)} (tasks ${fmt(job.taskOffset)}–${fmt(job.taskOffset + job.taskCount - 1)})`
        : `job (task ${fmt(job.taskOffset)})`;
  return `${job.id}  ${what}  def=${job.request.jobDefinition}${describeDeps(job.dependsOn)}`;
}

/** A step of a million tasks has a hundred chunk jobs that differ only in their offset: show the ends. */
function elide(rows: string[], keep = 3): string[] {
  if (rows.length <= 2 * keep + 1) return rows;
  return [...rows.slice(0, keep), `… ${rows.length - 2 * keep} more jobs like these …`, ...rows.slice(-keep)];
}

/**
 * Steps as branches, their jobs (barriers first, then the jobs that run tasks) as leaves:
 * ```
 * ├─ process  10,001 tasks in 2 jobs
 * │  ├─ process-p0  array ×5,001 (tasks 0–5,000)  def=hello  after prepare
 * ```
 */
export function renderPlanTree(plan: Plan): string {
  const jobsByStep = new Map<string, PlannedJob[]>();
  for (const job of plan.jobs) jobsByStep.set(job.step, [...(jobsByStep.get(job.step) ?? []), job]);
  const { input } = plan;
  const lines = [
    `run ${plan.runId}: ${plan.steps.length} steps, ${fmt(plan.jobs.length)} SubmitJob calls, ${fmt(plan.taskCount)} tasks → queue ${plan.jobQueue}`,
    `input s3://${input.bucket}/${input.key} (${fmt(input.sizeBytes)} bytes${input.versionId ? `, version ${input.versionId}` : ""})`,
  ];
  plan.steps.forEach((step, s) => {
    const lastStep = s === plan.steps.length - 1;
    const barriers = step.barrierIds.length > 0 ? `, ${step.barrierIds.length} barrier jobs` : "";
    lines.push(`${lastStep ? "└─" : "├─"} ${step.name}  ${fmt(step.width)} task${step.width === 1 ? "" : "s"} in ${step.jobIds.length} job${step.jobIds.length === 1 ? "" : "s"}${barriers}`);
    const rows = elide((jobsByStep.get(step.name) ?? []).map(describeJob));
    rows.forEach((row, j) => lines.push(`${lastStep ? "   " : "│  "}${j === rows.length - 1 ? "└─" : "├─"} ${row}`));
  });
  return lines.join("\n");
}
