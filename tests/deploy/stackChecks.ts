/**
 * The checks of files that must name every stack of the project (one `Pulumi.<stack>.yaml` each, as
 * stack/project.ts lists them): the preview workflow's matrix and the deploy role's documents. Each takes the
 * project directory, so a test can point it at a throwaway copy with an extra stack file, and returns one
 * line per problem that says which file to update and how; {@link assertNone} fails a test with them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import { findProject, stackFile, stackNames } from "../../stack/project";
import { EXAMPLE, projectStacks, renderAll } from "../../deploy/render";
import { resourcePrefix } from "../../stack/naming";

export const PREVIEW_WORKFLOW = ".github/workflows/preview.yml";

/** The project's stacks and their files' names (`Pulumi.dev.yaml`). */
function stacksOf(root: string): { stack: string; file: string }[] {
  const project = findProject(root);
  return stackNames(project).map((stack) => ({ stack, file: basename(stackFile(project, stack)) }));
}

/** Fails with the problems, one per line, when there are any. */
export function assertNone(problems: string[]): void {
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

/** Every stack file has a job in preview.yml's `preview` matrix, and the matrix names no stack without one. */
export function previewMatrixProblems(root: string): string[] {
  const workflow = parse(readFileSync(join(root, PREVIEW_WORKFLOW), "utf8")) as { jobs?: Record<string, { strategy?: { matrix?: { stack?: unknown } } }> };
  const listed = workflow.jobs?.preview?.strategy?.matrix?.stack;
  if (!Array.isArray(listed)) return [`${PREVIEW_WORKFLOW} has no job \`preview\` with a matrix \`stack:\` list: the preview of each stack runs there`];
  const matrix = listed.map(String);
  const stacks = stacksOf(root);
  return [
    ...stacks.filter(({ stack }) => !matrix.includes(stack)).map(({ stack, file }) => `${file} has no preview job in ${PREVIEW_WORKFLOW}: add \`${stack}\` to the matrix \`stack:\` list`),
    ...matrix
      .filter((stack) => !stacks.some((s) => s.stack === stack))
      .map((stack) => `${PREVIEW_WORKFLOW} previews stack \`${stack}\`, which has no Pulumi.${stack}.yaml: remove \`${stack}\` from the matrix \`stack:\` list, or add the stack file`),
  ];
}

const RENDER = "npx tsx deploy/render.ts";

/**
 * The example role documents committed in deploy/ are what `deploy/render.ts` writes for the project's
 * stacks: each stack has its deploy role, whose policies name its resource prefix, and no file is missing or stale.
 * A document that differs for another reason (policies.ts changed) is left to a diff of its text.
 */
export function roleDocumentProblems(root: string): string[] {
  const { project, stacks } = projectStacks(root);
  const rendered = renderAll({ ...EXAMPLE, project, stacks });
  const dir = join(root, "deploy");
  const committed = readdirSync(dir).filter((f) => f.endsWith(".json"));
  // Each stack has its own deploy role, whose policies name its resource prefix.
  const policiesOf = (stack: string) => committed.filter((f) => f.startsWith(`deploy-${stack}-policy-`)).map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
  const uncovered = stacksOf(root).filter(({ stack }) => !policiesOf(stack).includes(`${resourcePrefix(project, stack)}-`));
  // Rendering again fixes the files too (more stacks may split a theme into one policy per stack): name the stack only.
  if (uncovered.length > 0) {
    return uncovered.map(
      ({ stack, file }) =>
        `${file} has no deploy role in deploy/ (deploy/deploy-${stack}-policy-*.json): run \`${RENDER}\` to rewrite the example documents in deploy/ for stack \`${stack}\`, and render and attach your account's as deploy/README.md says`,
    );
  }
  return [
    ...Object.keys(rendered)
      .filter((f) => !existsSync(join(dir, f)))
      .map((f) => `deploy/${f} is missing: \`${RENDER}\` writes it for the stacks ${stacks.join(", ")}; run it`),
    ...committed.filter((f) => !(f in rendered)).map((f) => `deploy/${f} is no longer written by \`${RENDER}\` for the stacks ${stacks.join(", ")}: delete it (and detach it from the deploy role)`),
  ];
}
