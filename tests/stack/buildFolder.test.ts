/**
 * Where a definition's `build` is on disk (stack/buildFolder.ts): a folder of the project with its
 * Dockerfile, never a link out of it; the stack config's loader checks it alike for `pulumi preview` and
 * `batch-pipeline validate`.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageFolder as folder } from "../support/imageFolder";
import { buildFolder } from "../../stack/buildFolder";
import { loadPipelineConfig } from "../../stack/config";


describe("buildFolder", () => {
  it("resolves a folder of the project and its Dockerfile", () => {
    const project = mkdtempSync(join(tmpdir(), "bp-project-"));
    mkdirSync(join(project, "jobs", "csv"), { recursive: true });
    writeFileSync(join(project, "jobs", "csv", "Dockerfile"), "FROM scratch\n");
    expect(buildFolder(project, { context: "jobs/csv" })).toEqual({ context: join(project, "jobs", "csv"), dockerfile: join(project, "jobs", "csv", "Dockerfile") });
  });

  it("refuses a folder without its Dockerfile, naming the path", () => {
    const project = mkdtempSync(join(tmpdir(), "bp-project-"));
    mkdirSync(join(project, "jobs"));
    expect(() => buildFolder(project, { context: "jobs", dockerfile: "Job.Dockerfile" })).toThrow(`${join(project, "jobs", "Job.Dockerfile")} does not exist`);
  });

  it("refuses a folder that is a link out of the project", () => {
    const project = mkdtempSync(join(tmpdir(), "bp-project-"));
    const outside = folder();
    symlinkSync(outside, join(project, "linked"));
    expect(() => buildFolder(project, { context: "linked" })).toThrow(/jobDefinitions build {"context":"linked"}: leads outside the project/);
  });
});

describe("loadPipelineConfig with the project's folder: pulumi preview and batch-pipeline validate check build folders alike", () => {
  const stackConfig = (build: object) => ({ "batch-pipeline:jobDefinitions": JSON.stringify({ process: { build } }) });
  it.each([
    [{ context: "jobs-mine/wordcnt" }, "batch-pipeline:jobDefinitions.process.build = {\"context\":\"jobs-mine/wordcnt\"}: ", "jobs-mine/wordcnt is not a folder"],
    [{ context: "jobs", dockerfile: "Dockerfile.prod" }, "batch-pipeline:jobDefinitions.process.build = {\"context\":\"jobs\",\"dockerfile\":\"Dockerfile.prod\"}: ", "Dockerfile.prod does not exist: put the Dockerfile there or set build.dockerfile"],
  ])("refuses %j, naming the key, the value and the rule", (build, key, rule) => {
    const project = mkdtempSync(join(tmpdir(), "bp-project-"));
    mkdirSync(join(project, "jobs"));
    writeFileSync(join(project, "jobs", "Dockerfile"), "FROM scratch\n");
    expect(() => loadPipelineConfig(stackConfig(build), "batch-pipeline", { projectDir: project })).toThrow(key);
    expect(() => loadPipelineConfig(stackConfig(build), "batch-pipeline", { projectDir: project })).toThrow(rule);
    // Without the folder to look in (a config read for its shapes only), the disk is not read.
    expect(() => loadPipelineConfig(stackConfig(build), "batch-pipeline")).not.toThrow();
  });

  it("passes a folder of the project with its Dockerfile", () => {
    const project = mkdtempSync(join(tmpdir(), "bp-project-"));
    mkdirSync(join(project, "jobs"));
    writeFileSync(join(project, "jobs", "Dockerfile"), "FROM scratch\n");
    expect(loadPipelineConfig(stackConfig({ context: "jobs" }), "batch-pipeline", { projectDir: project }).jobDefinitions.process!.build).toEqual({ context: "jobs" });
  });
});
