/** The project's stack files as Pulumi reads them (stack/project.ts): the project, its stacks, a stack's config map. */
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFiles as tempProject } from "../cli/stackProject";
import { findProject, readStackConfig, StackFileError, stackNames } from "../../stack/project";

const REPO = resolve(__dirname, "../..");

describe("stack files", () => {
  it("finds the project from a subdirectory and lists its stacks", () => {
    const project = findProject(join(REPO, "cli", "commands"));
    expect(project).toEqual({ dir: REPO, name: "batch-pipeline" });
    expect(stackNames(project)).toEqual(expect.arrayContaining(["dev", "prod"]));
  });

  it("lists every Pulumi.<stack>.yaml (or .yml), sorted, and nothing else", () => {
    const cwd = tempProject({ "Pulumi.dev.yaml": "config: {}\n", "Pulumi.csv.yaml": "config: {}\n", "Pulumi.qa.yml": "config: {}\n", "Pulumi.yaml.bak": "", "notes.yaml": "" });
    expect(stackNames(findProject(cwd))).toEqual(["csv", "dev", "qa"]);
  });

  it("reads a stack file into the map Pulumi hands the program: strings as they are, other values as JSON, secrets left out", () => {
    const cwd = tempProject({
      "Pulumi.s.yaml": "config:\n  aws:region: eu-west-1\n  batch-pipeline:logRetentionDays: 7\n  batch-pipeline:queues:\n    high: {priority: 100}\n  batch-pipeline:notifications:\n    secure: AAABAMx\n",
    });
    const config = readStackConfig(findProject(cwd), "s");
    expect(config.all).toEqual({ "aws:region": "eu-west-1", "batch-pipeline:logRetentionDays": "7", "batch-pipeline:queues": '{"high":{"priority":100}}' });
    expect(config.secretKeys).toEqual(["batch-pipeline:notifications"]);
    expect(config.region).toBe("eu-west-1");
  });

  it("given invalid YAML or no such stack, one line naming the file", () => {
    const cwd = tempProject({ "Pulumi.bad.yaml": "config:\n  a: [1,\n" });
    expect(() => readStackConfig(findProject(cwd), "bad")).toThrow(/Pulumi\.bad\.yaml is not valid YAML: /);
    expect(() => readStackConfig(findProject(cwd), "nope")).toThrow(/no stack `nope`: .*Pulumi\.nope\.yaml does not exist \(stacks here: bad\)/);
  });

  it("given a directory outside any project, says to run inside one", () => {
    expect(() => findProject(tmpdir())).toThrow(/no Pulumi\.yaml in .* or any directory above it/);
    // Its own error: the CLI prints its message as a usage error (exit 2, cli/app/errors.ts).
    expect(() => findProject(tmpdir())).toThrow(StackFileError);
  });
});
