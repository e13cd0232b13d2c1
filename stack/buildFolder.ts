/**
 * Where a definition's `build` is on disk, checked: pure Node (fs and path, no Pulumi), so the stack
 * config's loader runs the same check at \`pulumi preview\` and in \`batch-pipeline validate\`.
 */
import { existsSync, realpathSync } from "node:fs";
import * as path from "node:path";

/** A build's Dockerfile, relative to its context (`build.dockerfile`, default `Dockerfile`). */
export const dockerfileOf = (build: { dockerfile?: string }): string => build.dockerfile ?? "Dockerfile";

/** Why `build` is not a folder of `project` with its Dockerfile, or undefined. */
export function buildFolderProblem(project: string, build: { context: string; dockerfile?: string }): string | undefined {
  const root = realpathSync(project);
  const context = path.resolve(project, build.context);
  const dockerfile = path.join(context, dockerfileOf(build));
  if (!existsSync(context)) return `${context} is not a folder (build.context is relative to ${root}, where Pulumi.yaml is)`;
  const real = realpathSync(context);
  if (!real.startsWith(`${root}${path.sep}`)) return `leads outside the project (to ${real}): an image is built from a folder of this repository`;
  if (!existsSync(dockerfile)) return `${dockerfile} does not exist: put the Dockerfile there or set build.dockerfile`;
  return undefined;
}

/**
 * A definition's `build` as absolute paths under `project`: the folder and its Dockerfile must exist, and
 * the folder's real path (links resolved) must lie inside the project; the config already refuses `..`.
 * @throws Error naming the build and the rule
 */
export function buildFolder(project: string, build: { context: string; dockerfile?: string }): { context: string; dockerfile: string } {
  const problem = buildFolderProblem(project, build);
  if (problem) throw new Error(`jobDefinitions build ${JSON.stringify(build)}: ${problem}`);
  const context = path.resolve(project, build.context);
  return { context, dockerfile: path.join(context, dockerfileOf(build)) };
}
