/**
 * The README's terminal examples, and those of the guides it links (docs/writing-jobs.md), are run, so they
 * cannot rot: every ```console block whose commands are
 * `$ npx batch-pipeline …` is executed in-process (non-TTY, no colour, the fake clock of
 * tests/cli/support.ts) and what it prints must be the block's text, exactly. A block preceded by
 * `<!-- readme-test: demo-account -->` runs against the mocked account of tests/cli/demoAccount.ts (the
 * runs there have fixed ids and times); one preceded by `<!-- readme-test: local-run -->` runs real
 * processes (`batch-pipeline run`, with this process's PATH) on the test's clock; the others need no AWS
 * at all and run in a copy of the project holding only the stack files the examples name. Output whose first
 * shown line is `…` is compared by its end: the lines after the `…`.
 * `UPDATE_README=1 npx vitest run tests/cli/readme.test.ts` rewrites the blocks from what the CLI prints.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installDemoAccount } from "./demoAccount";
import { cli, cliContext, REPO } from "./support";

const README = join(REPO, "README.md");
/** The documents whose examples run: the README and the guides it links. */
const DOCUMENTS = [README, join(REPO, "docs", "writing-jobs.md")];

interface Example {
  /** The document it is in. */
  file: string;
  /** The whole block, fences included, to replace it in place. */
  block: string;
  setup: string | undefined;
  commands: { argv: string[]; line: string; expected: string }[];
}

/** Splits a command line as a POSIX shell would for the quoting the README uses ('…', "…", \\). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      for (; line[j] !== '"'; j++) text += line[j] === "\\" ? line[++j] : line[j];
      word = (word ?? "") + text;
      i = j;
    } else if (c === "\\") word = (word ?? "") + line[++i];
    else if (c === " ") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

function examples(file: string, text: string): Example[] {
  const found: Example[] = [];
  for (const m of text.matchAll(/(?:<!-- readme-test: ([a-z-]+) -->\n)?(```console\n([\s\S]*?)```)/g)) {
    const body = m[3]!;
    if (!/^\$ npx batch-pipeline /m.test(body)) continue;
    const commands: Example["commands"] = [];
    for (const part of body.split(/^(?=\$ )/m).filter((p) => p.startsWith("$ "))) {
      const [line, ...rest] = part.split("\n");
      const words = shellWords(line!.slice(2));
      if (words[0] !== "npx" || words[1] !== "batch-pipeline") throw new Error(`README example runs something else: ${line}`);
      commands.push({ argv: words.slice(2), line: line!, expected: rest.join("\n").replace(/\n+$/, "") });
    }
    found.push({ file, block: m[2]!, setup: m[1], commands });
  }
  return found;
}

const blocks = DOCUMENTS.flatMap((file) => examples(file, readFileSync(file, "utf8")));

/**
 * The project a document's offline examples (validate, plan) run in: Pulumi.yaml and the stack files that
 * document's examples name (the README's: Pulumi.dev.yaml, Pulumi.prod.yaml), copied from the repository,
 * so a stack file a user adds (`cp Pulumi.dev.yaml Pulumi.csv.yaml`), or one another document shows, does
 * not change what `validate` must print there.
 */
const exampleProject = (() => {
  const dirs = new Map<string, string>();
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  return (document: string) => {
    if (dirs.has(document)) return dirs.get(document)!;
    const own = blocks.filter((b) => b.file === document);
    const shown = own.flatMap((b) => [...b.block.matchAll(/\bPulumi\.([\w-]+)\.yaml\b/g)].map((m) => m[1]!));
    const chosen = own.flatMap((b) => b.commands.flatMap((c) => c.argv.flatMap((a, i) => (c.argv[i - 1] === "--stack" ? [a] : []))));
    const dir = mkdtempSync(join(tmpdir(), "bp-readme-"));
    for (const file of ["Pulumi.yaml", ...[...new Set([...shown, ...chosen])].map((s) => `Pulumi.${s}.yaml`)]) copyFileSync(join(REPO, file), join(dir, file));
    // The folders those stacks build images from (validate checks they exist inside the project).
    cpSync(join(REPO, "examples"), join(dir, "examples"), { recursive: true, filter: (src) => !src.includes("node_modules") });
    dirs.set(document, dir);
    return dir;
  };
})();

async function runExample(example: Example): Promise<string[]> {
  const outputs: string[] = [];
  for (const command of example.commands) {
    const ctx = cliContext({ columns: 100, ...(example.setup === undefined ? { cwd: exampleProject(example.file) } : {}) });
    let restore: (() => void) | undefined;
    if (example.setup === "local-run") ctx.env = { PATH: process.env.PATH };
    else if (example.setup === "demo-account") {
      const { account } = await installDemoAccount(ctx);
      restore = () => account.mock.restore();
    } else if (example.setup !== undefined) throw new Error(`unknown README example setup ${example.setup}`);
    try {
      const { stdout, stderr } = await cli(command.argv, ctx);
      // A local run's notes on stderr depend on earlier runs in dist/runs (a re-run replaces one): stdout only.
      outputs.push(`${stdout}${example.setup === "local-run" ? "" : stderr}`.replace(/\s+$/, ""));
    } finally {
      restore?.();
    }
  }
  return outputs;
}

describe("README examples", () => {
  it("has examples of the offline commands (validate, plan) and of a run's status", () => {
    const commands = blocks.flatMap((b) => b.commands.map((c) => c.argv[0]));
    expect(commands).toEqual(expect.arrayContaining(["validate", "plan", "status"]));
  });

  it.each(blocks.map((b) => [relative(REPO, b.file), b.commands.map((c) => c.line).join(" && "), b] as const))("%s: %s prints what it shows", async (_file, _name, example) => {
    const outputs = await runExample(example);
    if (process.env.UPDATE_README === "1") {
      const shown = (expected: string, output: string) => (expected.startsWith("…\n") ? ["…", ...output.split("\n").slice(-(expected.split("\n").length - 1))].join("\n") : output);
      const updated = example.commands.map((c, i) => `${c.line}\n${shown(c.expected, outputs[i]!)}`).join("\n");
      const text = readFileSync(example.file, "utf8").replace(example.block, `\`\`\`console\n${updated}\n\`\`\``);
      writeFileSync(example.file, text);
      return;
    }
    example.commands.forEach((command, i) => {
      const [first, ...rest] = command.expected.split("\n");
      if (first !== "…") return expect(outputs[i], command.line).toBe(command.expected);
      expect(outputs[i]!.split("\n").slice(-rest.length).join("\n"), command.line).toBe(rest.join("\n"));
    });
  });
});
