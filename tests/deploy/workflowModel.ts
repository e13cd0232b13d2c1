/** The repository's GitHub Actions workflows as the workflow tests read them: the files, parsed, and their shape. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const WORKFLOW_DIR = join(__dirname, "..", "..", ".github", "workflows");
export const WORKFLOW_FILES = readdirSync(WORKFLOW_DIR).filter((f) => f.endsWith(".yml")).sort();
export const workflowText = (file: string) => readFileSync(join(WORKFLOW_DIR, file), "utf8");

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
export interface Job {
  needs?: string | string[];
  if?: string;
  environment?: string;
  concurrency?: { group: string; "cancel-in-progress": unknown };
  strategy?: { matrix: Record<string, unknown[]> };
  /** A map, or GitHub's shorthand (`read-all`, `write-all`). */
  permissions?: Record<string, string> | string;
  defaults?: { run?: { shell?: string } };
  steps?: Step[];
  uses?: string;
  env?: Record<string, string>;
}
export interface Workflow {
  on: Record<string, { branches?: string[]; "branches-ignore"?: string[] } | null>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}
export const workflow = (file: string) => parse(workflowText(file)) as Workflow;
export const steps = (job: Job) => job.steps ?? [];
