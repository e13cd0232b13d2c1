/**
 * What the workflows must hold to whatever a change, a dependency or a moved tag brings (issue 17, item 4):
 * every action pinned to a full commit SHA with its release in a comment, no permission at workflow level
 * and exactly what each job needs at job level (an OIDC token only where an AWS role is assumed, a token
 * that writes on pull requests only in a job that runs nothing from them), checkouts that keep no
 * credentials, and the preview comment written by a job that checks nothing out and runs no npm or Node:
 * its script is run here, with a stand-in `gh`, on artifacts written the way a hostile pull request could.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";

import { type Step, steps, type Workflow, workflow, WORKFLOW_FILES as FILES, workflowText as text } from "./workflowModel";

const jobsOf = (file: string) => Object.entries(workflow(file).jobs);
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
      "preview.yml:preview": { contents: "read", "id-token": "write" },
      "preview.yml:comment": { "pull-requests": "write" },
    });
  });

  it("an OIDC token only in jobs that assume an AWS role; pull-request writes only in jobs that run nothing of the repository", () => {
    for (const file of FILES) {
      for (const [id, job] of jobsOf(file)) {
        const perms = typeof job.permissions === "object" ? job.permissions : {};
        const assumes = steps(job).some((s) => action(s) === "aws-actions/configure-aws-credentials");
        expect(perms["id-token"] === "write", `${file}:${id}`).toBe(assumes);
        const runsRepository = steps(job).some((s) => action(s) === "actions/checkout" || action(s) === "actions/setup-node" || s.uses?.startsWith("./"));
        if (perms["pull-requests"] === "write" || perms.issues === "write") expect(runsRepository, `${file}:${id}`).toBe(false);
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

describe("the preview comment is written by a job that runs no code from the pull request", () => {
  const preview = workflow("preview.yml");
  const runner = preview.jobs.preview!;
  const commenter = preview.jobs.comment!;

  it("the preview job writes nothing on GitHub: no pull-request permission, no token passed, its output kept as an artifact", () => {
    expect(runner.permissions).not.toHaveProperty("pull-requests");
    for (const file of FILES) expect(text(file), file).not.toMatch(/comment-on-pr|github-token:/);
    const upload = steps(runner).find((s) => action(s) === "actions/upload-artifact")!;
    expect(upload.with).toMatchObject({ name: "preview-${{ matrix.stack }}", path: "${{ runner.temp }}/preview/" });
    // Kept after a failed preview too (a policy violation is what reviewers most need to read).
    expect(upload.if).toBe("${{ !cancelled() }}");
    const run = steps(runner).find((s) => s.run?.includes("pulumi preview"))!;
    expect(run.run).toContain('| tee "$OUT/output.txt"');
    // GitHub runs a script without `shell:` as `bash -e`, where a pipe takes tee's status: a failed preview
    // would pass. `shell: bash` is `bash -eo pipefail`.
    expect(run.run).toMatch(/^set -o pipefail$/m);
    for (const job of [runner, commenter]) expect(job.defaults).toEqual({ run: { shell: "bash" } });
  });

  it("the comment job waits for every preview, checks nothing out and runs only the artifact download and its own script", () => {
    expect(commenter.needs).toBe("preview");
    expect(commenter.if).toContain("!cancelled()");
    expect(commenter.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    const uses = steps(commenter).flatMap((s) => (s.uses ? [action(s)] : []));
    expect(uses).toEqual(["actions/download-artifact"]);
    expect(steps(commenter).find((s) => s.uses)!.with).toEqual({ pattern: "preview-*", path: "previews" });
    const scripts = steps(commenter).flatMap((s) => (s.run ? [s.run] : []));
    expect(scripts).toHaveLength(1);
    for (const script of scripts) {
      // No interpreter or package manager of the repository's code, and nothing from the event spliced
      // into the script: values arrive through env.
      expect(script).not.toMatch(/\b(npm|npx|node|yarn|pnpm|bun|deno|tsx|ts-node|git|make|python3?)\b(?!-)/);
      expect(script).not.toContain("${{");
      expect(script).not.toMatch(/\b(eval|source)\b|^\s*\.\s/m);
    }
  });

  // The comment step's script, run as GitHub runs it, with `gh` replaced by a stand-in that answers the
  // comment listing from a fixture and keeps each write.
  const script = steps(commenter).find((s) => s.name === "comment")!.run!;
  const env = steps(commenter).find((s) => s.name === "comment")!.env!;
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  interface Artifact {
    outcome?: string;
    output?: string;
  }
  function runComment(artifacts: Record<string, Artifact>, comments: { id: number; user: { login: string }; body: string }[] = []) {
    const root = mkdtempSync(join(tmpdir(), "preview-comment-"));
    roots.push(root);
    const work = join(root, "work");
    const bin = join(root, "bin");
    const calls = join(root, "calls");
    for (const d of [work, bin, calls]) mkdirSync(d);
    for (const [name, a] of Object.entries(artifacts)) {
      const dir = join(work, "previews", name);
      mkdirSync(dir, { recursive: true });
      if (a.outcome !== undefined) writeFileSync(join(dir, "outcome"), a.outcome);
      if (a.output !== undefined) writeFileSync(join(dir, "output.txt"), a.output);
    }
    writeFileSync(join(root, "comments.json"), JSON.stringify(comments));
    writeFileSync(
      join(bin, "gh"),
      `#!/usr/bin/env bash
set -euo pipefail
[[ "$GH_TOKEN" == token-stand-in ]]
method=GET input="" filter="" path=""
while (( $# )); do
  case "$1" in
    api | --paginate) ;;
    --method) method="$2"; shift ;;
    --input) input="$2"; shift ;;
    --jq) filter="$2"; shift ;;
    *) path="$1" ;;
  esac
  shift
done
if [[ "$method" == GET ]]; then jq -r "$filter" "$STUB_ROOT/comments.json"; exit; fi
n="$(ls "$STUB_ROOT/calls" | wc -l)"
jq --arg method "$method" --arg path "$path" '{method: $method, path: $path, body: .body}' "$input" > "$STUB_ROOT/calls/$n.json"
echo "https://github.com/octo/repo/pull/7#issuecomment-$n"
`,
    );
    chmodSync(join(bin, "gh"), 0o755);
    const scriptFile = join(root, "script.sh");
    writeFileSync(scriptFile, script);
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", scriptFile], {
      cwd: work,
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: root,
        STUB_ROOT: root,
        GH_TOKEN: "token-stand-in",
        GH_REPO: "octo/repo",
        PR: "7",
        HEAD_SHA: "0123456789abcdef0123456789abcdef01234567",
        RUN_URL: "https://github.com/octo/repo/actions/runs/99",
      },
    });
    const writes = readdirSync(calls)
      .sort((a, b) => parseInt(a) - parseInt(b))
      .map((f) => JSON.parse(readFileSync(join(calls, f), "utf8")) as { method: string; path: string; body: string });
    return { ...r, writes, root, work };
  }

  it("passes every value from the event through env", () => {
    expect(Object.keys(env).sort()).toEqual(["GH_REPO", "GH_TOKEN", "HEAD_SHA", "PR", "RUN_URL"]);
    expect(env.PR).toBe("${{ github.event.pull_request.number }}");
  });

  const hostile = [
    "Previewing update (dev):",
    "~ aws:lambda:Function trigger update [diff: ~code]",
    "``` closing the fence early",
    "```` and a longer one",
    "$(touch PWNED) `touch PWNED2` ${{ secrets.GITHUB_TOKEN }}",
    "::add-mask::everything",
    "::error::forged annotation",
    "\u001b[31mred\u001b[0m and a bell\u0007 and a NUL\u0000 and a CR\r",
    "</details><img src=x onerror=alert(1)> @octocat",
    "Resources: 1 to update",
  ].join("\n");

  it("writes one comment per stack, edits the bot's own comment of a stack, and posts the others", () => {
    const marker = (stack: string) => `<!-- batch-pipeline preview: ${stack} -->`;
    const r = runComment(
      {
        "preview-csv": { outcome: "success\n", output: hostile },
        "preview-dev": { outcome: "failure\n", output: "error: preview failed\nmandatory policy violation: s3-bucket-private" },
        "preview-prod": { outcome: "skipped\n" },
      },
      [
        { id: 11, user: { login: "someone" }, body: `${marker("csv")}\nquoted by a person` },
        { id: 42, user: { login: "github-actions[bot]" }, body: `${marker("dev")}\nan older preview` },
        { id: 43, user: { login: "github-actions[bot]" }, body: "another bot comment" },
      ],
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.writes.map((w) => [w.method, w.path])).toEqual([
      ["POST", "repos/octo/repo/issues/7/comments"],
      ["PATCH", "repos/octo/repo/issues/comments/42"],
      ["POST", "repos/octo/repo/issues/7/comments"],
    ]);
    const [csv, dev, prod] = r.writes.map((w) => w.body);
    expect(csv!.startsWith(`${marker("csv")}\n#### \`pulumi preview --diff\` of stack \`csv\` succeeded\n`)).toBe(true);
    expect(csv).toContain("Commit 0123456789abcdef0123456789abcdef01234567, [workflow run](https://github.com/octo/repo/actions/runs/99).");
    // The output sits inside a fence longer than any backtick run in it, so nothing in it closes the block.
    expect(csv).toContain("<details>\n<summary>Output</summary>\n\n`````\nPreviewing update (dev):\n");
    expect(csv!.endsWith("Resources: 1 to update\n`````\n</details>\n")).toBe(true);
    expect(csv!.split("\n").filter((l) => /^`{5,}$/.test(l))).toHaveLength(2);
    // Control characters gone, newlines kept; the text itself kept (it is only ever data).
    expect(csv).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(csv).toContain("[31mred[0m and a bell and a NUL and a CR\n");
    expect(csv).toContain("$(touch PWNED) `touch PWNED2` ${{ secrets.GITHUB_TOKEN }}");
    expect(dev).toContain("of stack `dev` failed: the output says why");
    expect(dev).toContain("<details open>");
    expect(dev).toContain("mandatory policy violation: s3-bucket-private");
    expect(prod).toContain("of stack `prod` did not run: an earlier step of the job failed");
    expect(prod).toContain("No output was recorded.");
    // Nothing of the artifacts ran, and nothing of them reached the log (where `::` lines are commands).
    expect(existsSync(join(r.work, "PWNED")) || existsSync(join(r.work, "PWNED2"))).toBe(false);
    expect(r.stdout.trim().split("\n")).toEqual([0, 1, 2].map((n) => `https://github.com/octo/repo/pull/7#issuecomment-${n}`));
  });

  it("keeps the end of a long output (the summary and the policy report) within GitHub's 65,536 characters", () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"x".repeat(20)}`);
    const r = runComment({ "preview-dev": { outcome: "success", output: lines.join("\n") + "\n" } });
    expect(r.status).toBe(0);
    const [body] = r.writes.map((w) => w.body);
    expect(body!.length).toBeLessThanOrEqual(65_536);
    expect(body).toMatch(/The first \d+ bytes \(or more, to a line\) are left out; the whole output is in the run's log\./);
    expect(body).toContain("line 19999 ");
    expect(body).not.toContain("line 0 ");
    // Whole lines only: the first kept line is complete.
    const kept = body!.split("```\n")[1]!.split("\n")[0]!;
    expect(kept).toMatch(/^line \d+ x{20}$/);
  });

  it("skips an artifact whose name is no stack name and reports an outcome it does not know as such", () => {
    const r = runComment({
      "preview-$(touch PWNED)": { outcome: "success", output: "ok" },
      "preview-dev": { outcome: "::error::forged", output: "ok" },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("skipping an artifact whose name is not a stack name\n");
    expect(r.writes).toHaveLength(1);
    expect(r.writes[0]!.body).toContain("of stack `dev` ended unknown (see the run)");
    expect(existsSync(join(r.work, "PWNED"))).toBe(false);
  });

  it("writes nothing when no preview left an artifact", () => {
    const r = runComment({});
    expect(r.status).toBe(0);
    expect(r.writes).toEqual([]);
  });
});
