/**
 * Adding a stack file, as Pulumi.prod.yaml's comment suggests (`cp Pulumi.dev.yaml Pulumi.csv.yaml`), in a
 * throwaway copy of the project: Pulumi.yaml and the example stacks, the preview workflow with a job per
 * example stack, and the role documents deploy/render.ts writes for them. Whatever lists stacks reads the
 * stack files, so the new one is listed everywhere; the files that must name every stack (the preview
 * matrix, the deploy role's documents) fail with which file to update and how, not with a list diff.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { findProject, stackNames } from "../stack/project";
import { chooseStack } from "../cli/stack/outputs";
import { EXAMPLE, projectStacks, renderAll } from "../deploy/render";
import { cli, cliContext } from "./cli/support";
import { offline, project } from "./cli/stackProject";
import { assertNone, PREVIEW_WORKFLOW, previewMatrixProblems, roleDocumentProblems } from "./deploy/stackChecks";

const ROOT = join(__dirname, "..");
const EXAMPLES = ["dev", "prod"];
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** The project with the example stacks only, and every file that names stacks in step with them. */
function exampleProject(): string {
  const dir = project(Object.fromEntries(EXAMPLES.map((s) => [s, read(`Pulumi.${s}.yaml`)])));
  const preview = parseDocument(read(PREVIEW_WORKFLOW));
  preview.setIn(["jobs", "preview", "strategy", "matrix", "stack"], EXAMPLES);
  mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
  writeFileSync(join(dir, PREVIEW_WORKFLOW), preview.toString());
  mkdirSync(join(dir, "deploy"));
  for (const [file, text] of Object.entries(renderAll({ ...EXAMPLE, ...projectStacks(dir) }))) writeFileSync(join(dir, "deploy", file), text);
  return dir;
}

let dir: string;
beforeEach(() => {
  dir = exampleProject();
});

describe("the example project as committed", () => {
  it("lists the example stacks, and names each where it must", () => {
    expect(stackNames(findProject(dir))).toEqual(EXAMPLES);
    expect(previewMatrixProblems(dir)).toEqual([]);
    expect(roleDocumentProblems(dir)).toEqual([]);
  });
});

describe("given a copy of Pulumi.dev.yaml as Pulumi.csv.yaml", () => {
  beforeEach(() => writeFileSync(join(dir, "Pulumi.csv.yaml"), read("Pulumi.dev.yaml")));

  it("the CLI and the role renderer list it, read from the stack files", async () => {
    expect(stackNames(findProject(dir))).toEqual(["csv", "dev", "prod"]);
    expect(projectStacks(dir)).toEqual({ project: "batch-pipeline", stacks: ["csv", "dev", "prod"] });
    expect(() => chooseStack({}, cliContext({ cwd: dir }))).toThrow("(stacks here: csv, dev, prod)");
    const { code, stdout } = await cli(["validate"], offline(dir));
    expect({ code, stdout }).toEqual({ code: 0, stdout: "✓ csv   Pulumi.csv.yaml\n✓ dev   Pulumi.dev.yaml\n✓ prod  Pulumi.prod.yaml\n" });
  });

  it("the preview workflow's check says to add it to the matrix", () => {
    expect(previewMatrixProblems(dir)).toEqual(["Pulumi.csv.yaml has no preview job in .github/workflows/preview.yml: add `csv` to the matrix `stack:` list"]);
    expect(() => assertNone(previewMatrixProblems(dir))).toThrow("Pulumi.csv.yaml has no preview job in .github/workflows/preview.yml: add `csv` to the matrix `stack:` list");
  });

  it("the role documents' check says to render them again", () => {
    expect(roleDocumentProblems(dir)).toEqual([
      "Pulumi.csv.yaml has no deploy role in deploy/ (deploy/deploy-csv-policy-*.json): run `npx tsx deploy/render.ts` to rewrite the example documents in deploy/ for stack `csv`, and render and attach your account's as deploy/README.md says",
    ]);
  });

  it("both pass once the matrix names it and the documents are rendered again (and the one no longer written deleted)", () => {
    const preview = parseDocument(readFileSync(join(dir, PREVIEW_WORKFLOW), "utf8"));
    preview.setIn(["jobs", "preview", "strategy", "matrix", "stack"], ["csv", ...EXAMPLES]);
    writeFileSync(join(dir, PREVIEW_WORKFLOW), preview.toString());
    expect(previewMatrixProblems(dir)).toEqual([]);
    // What `npx tsx deploy/render.ts` does: csv gets its own deploy and preview roles and boundary. A document of
    // the former layout (one deploy role for every stack) is named for deletion.
    for (const [file, text] of Object.entries(renderAll({ ...EXAMPLE, ...projectStacks(dir) }))) writeFileSync(join(dir, "deploy", file), text);
    writeFileSync(join(dir, "deploy", "deploy-role-policy-services.json"), "{}\n");
    expect(roleDocumentProblems(dir)).toEqual([
      "deploy/deploy-role-policy-services.json is no longer written by `npx tsx deploy/render.ts` for the stacks csv, dev, prod: delete it (and detach it from the deploy role)",
    ]);
    rmSync(join(dir, "deploy", "deploy-role-policy-services.json"));
    expect(roleDocumentProblems(dir)).toEqual([]);
  });
});

describe("given a stack file removed", () => {
  it("the preview workflow's check says to drop it from the matrix", () => {
    rmSync(join(dir, "Pulumi.prod.yaml"));
    expect(previewMatrixProblems(dir)).toEqual([
      ".github/workflows/preview.yml previews stack `prod`, which has no Pulumi.prod.yaml: remove `prod` from the matrix `stack:` list, or add the stack file",
    ]);
  });
});
