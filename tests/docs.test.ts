/** The README's configuration reference is checked against the schema, so the docs match the code. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePipelineConfig } from "../infra/config";
import { resourcePrefix } from "../infra/naming";

/** Keys whose values are maps or specs are documented as a whole, not per entry. */
const WHOLE_VALUES = new Set(["queues", "jobDefinitions", "tags", "workflow"]);
/** Keys that have no default, so they are absent from a parsed empty config. */
const OPTIONAL_KEYS = ["network.cidrBlock", "network.availabilityZones", "network.natGateways", "network.vpcId", "network.subnetIds", "orchestrator.image", "notifications.email", "trigger.powertoolsLayerArn", "compute.fargate.assignPublicIp"];

function leafKeys(value: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(value).flatMap(([k, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && !WHOLE_VALUES.has(k) ? leafKeys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

const fullReadme = readFileSync("README.md", "utf8");
const start = fullReadme.indexOf("## Configuration reference");
const readme = fullReadme.slice(start, fullReadme.indexOf("\n### ", start));
const documented = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));

describe("README configuration reference", () => {
  it("has a configuration reference section", () => {
    expect(start).toBeGreaterThan(0);
  });
  const schemaKeys = [...leafKeys(parsePipelineConfig({})), ...OPTIONAL_KEYS];
  it.each(schemaKeys)("documents `%s`", (key) => {
    expect(documented.has(key)).toBe(true);
  });
  it("documents no key the schema lacks", () => {
    expect([...documented].filter((k) => !schemaKeys.includes(k))).toEqual([]);
  });
  it("states the defaults the schema applies", () => {
    const cfg = parsePipelineConfig({});
    const row = (key: string) => readme.match(new RegExp(`^\\| \`${key.replace(".", "\\.")}\` \\| ([^|]+) \\|`, "m"))?.[1]?.trim();
    expect(row("logRetentionDays")).toBe(`\`${cfg.logRetentionDays}\``);
    expect(row("compute.spot.maxVcpus")).toBe(`\`${cfg.compute.spot.maxVcpus}\``);
    expect(row("compute.onDemand.maxVcpus")).toBe(`\`${cfg.compute.onDemand.maxVcpus}\``);
    expect(row("trigger.prefix")).toBe(`\`${cfg.trigger.prefix}\``);
    expect(row("runnableTimeoutSeconds")).toBe(`\`${cfg.runnableTimeoutSeconds}\``);
  });
});

describe("README examples", () => {
  it("shows the resource prefix the code gives stack `dev`", () => {
    expect(fullReadme).toContain(`\`${resourcePrefix("batch-pipeline", "dev")}\` for stack \`dev\``);
  });
});
