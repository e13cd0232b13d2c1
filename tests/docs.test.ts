/** The README's configuration reference is checked against the schema, so the docs match the code. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePipelineConfig } from "../stack/config";
import { processJobSchema } from "../stack/config/jobDefinitionSchema";
import { resourcePrefix } from "../stack/naming";

/** Keys whose values are maps or specs are documented as a whole, not per entry. */
const WHOLE_VALUES = new Set(["queues", "jobDefinitions", "tags", "workflow"]);
/** Keys that have no default, so they are absent from a parsed empty config. */
const OPTIONAL_KEYS = ["network.cidrBlock", "network.availabilityZones", "network.natGateways", "network.vpcId", "network.subnetIds", "orchestrator.image", "notifications.email", "trigger.powertoolsLayerArn", "compute.fargate.assignPublicIp", "permissionsBoundaryArn"];

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

describe("README job definition fields", () => {
  const from = fullReadme.indexOf("### Job definitions");
  const section = fullReadme.slice(from, fullReadme.indexOf("\n### ", from + 1));
  const rows = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  it("lists every field of jobDefinitions.<key>, in the schema's order, and no other", () => {
    expect(from).toBeGreaterThan(0);
    expect(rows).toEqual(Object.keys(processJobSchema.shape));
  });
});

describe("README examples", () => {
  it("shows the resource prefix the code gives stack `dev`", () => {
    expect(fullReadme).toContain(`\`${resourcePrefix("batch-pipeline", "dev")}\` for stack \`dev\``);
  });
});

/** GitHub's anchor for each heading, in document order: lowercase, punctuation dropped (`-` and `_` kept), each space a `-`; repeats get -1, -2. */
function githubAnchors(headings: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return headings.map((heading) => {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}-${n}`;
  });
}

/** Every heading of a Markdown text with its level and anchor, code blocks skipped. */
function headingsOf(markdown: string): { level: number; text: string; anchor: string }[] {
  let fenced = false;
  const found = markdown.split("\n").flatMap((line) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && line.match(/^(#{1,6}) (.+?)\s*$/);
    return m ? [{ level: m[1]!.length, text: m[2]! }] : [];
  });
  const anchors = githubAnchors(found.map((h) => h.text));
  return found.map((h, i) => ({ ...h, anchor: anchors[i]! }));
}

describe("README table of contents", () => {
  const toc = fullReadme.match(/<!-- toc -->\n([\s\S]*?)<!-- \/toc -->/)?.[1] ?? "";
  const entries = [...toc.matchAll(/^- \[(.+)\]\(#([^)]+)\)$/gm)].map((m) => ({ text: m[1]!, anchor: m[2]! }));

  it("sits near the top, before the first section", () => {
    expect(toc).not.toBe("");
    expect(fullReadme.indexOf("<!-- toc -->")).toBeLessThan(fullReadme.indexOf("\n## "));
  });

  it("lists every ## heading, in order, each linked to its GitHub anchor", () => {
    const sections = headingsOf(fullReadme).filter((h) => h.level === 2);
    expect(sections.length).toBeGreaterThan(5);
    expect(entries).toEqual(sections.map(({ text, anchor }) => ({ text, anchor })));
  });

  it("makes anchors as GitHub does", () => {
    expect(githubAnchors(["Operate it from a terminal: `batch-pipeline`", "IAM, proven against AWS's own rules", "Costs to expect", "Costs to expect"])).toEqual([
      "operate-it-from-a-terminal-batch-pipeline",
      "iam-proven-against-awss-own-rules",
      "costs-to-expect",
      "costs-to-expect-1",
    ]);
  });
});

describe("LICENSE and CHANGELOG", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string; license?: string };

  it("the project is MIT licensed: LICENSE and package.json agree", () => {
    expect(pkg.license).toBe("MIT");
    expect(readFileSync("LICENSE", "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the batch-pipeline authors\n/);
  });

  it("CHANGELOG.md keeps a changelog: an Unreleased section, then one for package.json's version", () => {
    const changelog = readFileSync("CHANGELOG.md", "utf8");
    const versions = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
    expect(versions.slice(0, 2)).toEqual(["Unreleased", pkg.version]);
    expect(changelog).toContain("https://keepachangelog.com/en/1.1.0/");
  });
});

describe("the job author's guide (docs/writing-jobs.md)", () => {
  const guide = readFileSync("docs/writing-jobs.md", "utf8");
  const links = [...guide.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^https?:/.test(l));

  it("is linked from the README's Run-it section and its configuration reference", () => {
    const section = (heading: string) => fullReadme.slice(fullReadme.indexOf(heading), fullReadme.indexOf("\n## ", fullReadme.indexOf(heading) + 1));
    expect(section("## Run it on this machine")).toContain("(docs/writing-jobs.md)");
    expect(section("## Configuration reference")).toContain("(docs/writing-jobs.md)");
  });

  it("links only files that exist and headings that exist, its own and the README's", () => {
    const anchorsOf = (file: string) => headingsOf(readFileSync(file, "utf8")).map((h) => h.anchor);
    const broken = links.filter((link) => {
      const [path, anchor] = link.split("#");
      const file = path ? join(dirname("docs/writing-jobs.md"), path) : "docs/writing-jobs.md";
      if (!existsSync(file)) return true;
      return anchor !== undefined && !(file.endsWith(".md") && anchorsOf(file).includes(anchor));
    });
    expect(links.length).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
