/**
 * What the workflows must hold to whatever a change, a dependency or a moved tag brings (issue 17, item 4):
 * every action pinned to a full commit SHA with its release in a comment, no permission at workflow level
 * and exactly what each job needs at job level (an OIDC token only where an AWS role is assumed, a token
 * that writes on pull requests only in a job that runs nothing from them), checkouts that keep no
 * credentials.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const DIR = join(__dirname, "..", "..", ".github", "workflows");
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();
const text = (file: string) => readFileSync(join(DIR, file), "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string> | string;
  steps?: Step[];
  uses?: string;
}
interface Workflow {
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}
const workflow = (file: string) => parse(text(file)) as Workflow;
const jobsOf = (file: string) => Object.entries(workflow(file).jobs);
const steps = (job: Job) => job.steps ?? [];
const action = (s: Step) => s.uses?.split("@")[0];

/** A reference to an action or reusable workflow of another repository: owner/repo[/path]@<40 hex>. */
const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$/;
/** The release the SHA is, as a comment after it: `# v5.0.1`. */
const RELEASE = /^v\d+\.\d+\.\d+$/;

/**
 * Every `uses:` of a workflow's text: each must be a local `./` reference or pinned with its release in a
 * comment. Read from the lines (the YAML parser drops comments) and checked against the parsed document,
 * so that no `uses` hides from the line scan (a flow mapping, a quoted key).
 */
function usesProblems(source: string): string[] {
  const problems: string[] = [];
  const lines = [...source.matchAll(/^[ \t]*(?:-[ \t]+)?uses:[ \t]*(\S+)(?:[ \t]+#[ \t]*(\S*).*)?$/gm)];
  for (const [line, ref, release] of lines) {
    if (ref!.startsWith("./")) continue;
    if (!PINNED.test(ref!)) problems.push(`${line.trim()}: not pinned to a full commit SHA (owner/repo@<40 hex>)`);
    else if (release === undefined || !RELEASE.test(release)) problems.push(`${line.trim()}: no release comment after the SHA (\`# v1.2.3\`)`);
  }
  const doc = parse(source) as Workflow;
  const parsed = Object.values(doc.jobs ?? {}).flatMap((j) => [j.uses, ...steps(j).map((s) => s.uses)]).filter((u): u is string => u !== undefined);
  const scanned = lines.map((m) => m[1]!);
  if (JSON.stringify([...parsed].sort()) !== JSON.stringify([...scanned].sort())) problems.push(`uses written in a form the line scan cannot read: ${JSON.stringify(parsed)} vs ${JSON.stringify(scanned)}`);
  return problems;
}

describe("every action is pinned to a commit, with its release in a comment", () => {
  it.each(FILES)("%s", (file) => {
    expect(usesProblems(text(file))).toEqual([]);
  });

  it("one commit per action across the workflows, and one release name per commit", () => {
    const pins = FILES.flatMap((f) => [...text(f).matchAll(/uses:[ \t]*([^@\s]+)@([0-9a-f]{40})[ \t]+#[ \t]*(\S+)/g)].map((m) => ({ action: m[1]!, sha: m[2]!, release: m[3]! })));
    expect(pins.length).toBeGreaterThan(10);
    const by = (key: (p: (typeof pins)[number]) => string, value: (p: (typeof pins)[number]) => string) => {
      const seen = new Map<string, Set<string>>();
      for (const p of pins) seen.set(key(p), (seen.get(key(p)) ?? new Set()).add(value(p)));
      return [...seen].filter(([, v]) => v.size > 1).map(([k, v]) => `${k}: ${[...v].join(", ")}`);
    };
    expect(by((p) => p.action, (p) => p.sha)).toEqual([]);
    expect(by((p) => p.sha, (p) => p.release)).toEqual([]);
  });

  const good = `on: push
jobs:
  a:
    uses: ./.github/workflows/ci.yml
  b:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@93cb6efe18208431cddfb8368fd83d5badbf9bfd # v5.0.1
      - uses: github/codeql-action/init@0123456789abcdef0123456789abcdef01234567 # v3.1.0
      - uses: ./.github/actions/local
`;
  it("accepts local references and owner/repo[/path]@<sha> # vX.Y.Z", () => {
    expect(usesProblems(good)).toEqual([]);
  });
  it.each([
    ["a major tag", "actions/checkout@v5"],
    ["a full tag", "actions/checkout@v5.0.1 # v5.0.1"],
    ["a branch", "actions/checkout@main # v5.0.1"],
    ["a short SHA", "actions/checkout@93cb6ef # v5.0.1"],
    ["an upper-case SHA", "actions/checkout@93CB6EFE18208431CDDFB8368FD83D5BADBF9BFD # v5.0.1"],
    ["a SHA without a comment", "actions/checkout@93cb6efe18208431cddfb8368fd83d5badbf9bfd"],
    ["a comment that is no release", "actions/checkout@93cb6efe18208431cddfb8368fd83d5badbf9bfd # latest"],
    ["a major-only release comment", "actions/checkout@93cb6efe18208431cddfb8368fd83d5badbf9bfd # v5"],
    ["a Docker image by tag", "docker://alpine:3.20 # v3.20.0"],
  ])("refuses %s", (_what, ref) => {
    const source = good.replace("actions/checkout@93cb6efe18208431cddfb8368fd83d5badbf9bfd # v5.0.1", ref);
    expect(usesProblems(source)).toEqual([expect.stringContaining(ref.split(" ")[0]!)]);
  });
  it("refuses a reusable workflow of another repository by tag", () => {
    expect(usesProblems(good.replace("./.github/workflows/ci.yml", "octo/workflows/.github/workflows/ci.yml@v1"))).toHaveLength(1);
  });
  it("refuses a uses the line scan cannot see", () => {
    const hidden = good.replace("      - uses: ./.github/actions/local\n", "      - { uses: actions/checkout@v5 }\n");
    expect(usesProblems(hidden)).toEqual([expect.stringContaining("cannot read")]);
  });
});

describe("permissions: none at workflow level, exactly what each job needs at job level", () => {
  it("every workflow grants nothing at workflow level", () => {
    for (const file of FILES) expect(workflow(file).permissions, file).toEqual({});
  });

  it("each job has exactly its permissions", () => {
    const actual = Object.fromEntries(FILES.flatMap((f) => jobsOf(f).map(([id, j]) => [`${f}:${id}`, j.permissions])));
    expect(actual).toEqual({
      "ci.yml:test": { contents: "read" },
      "deploy.yml:test": { contents: "read" }, // ci.yml called as a reusable workflow: the ceiling of its job
      "deploy.yml:dev": { contents: "read", "id-token": "write" },
      "deploy.yml:prod": { contents: "read", "id-token": "write" },
      "preview.yml:preview": { contents: "read", "id-token": "write", "pull-requests": "write" },
    });
  });

  it("an OIDC token only in jobs that assume an AWS role", () => {
    for (const file of FILES) {
      for (const [id, job] of jobsOf(file)) {
        const perms = typeof job.permissions === "object" ? job.permissions : {};
        const assumes = steps(job).some((s) => action(s) === "aws-actions/configure-aws-credentials");
        expect(perms["id-token"] === "write", `${file}:${id}`).toBe(assumes);
        for (const [scope, level] of Object.entries(perms)) expect(["read", "write", "none"], `${file}:${id} ${scope}`).toContain(level);
        expect(perms.contents ?? "none", `${file}:${id}`).not.toBe("write");
      }
    }
  });
});

describe("checkouts keep no credentials", () => {
  it("every actions/checkout sets persist-credentials: false", () => {
    const checkouts = FILES.flatMap((f) => jobsOf(f).flatMap(([id, j]) => steps(j).filter((s) => action(s) === "actions/checkout").map((s) => ({ at: `${f}:${id}`, s }))));
    expect(checkouts.length).toBe(4);
    for (const { at, s } of checkouts) expect(s.with?.["persist-credentials"], at).toBe(false);
  });
});
