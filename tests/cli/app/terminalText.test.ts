/**
 * Issue 17: object keys, container log lines and status reasons come from outside, and the CLI prints them
 * on terminals: an escape sequence in one (an OSC title, a clear-screen, a bidi override) must show as
 * visible escapes, never act. `--json` output keeps them (JSON escapes them itself).
 */
import { BatchClient } from "@aws-sdk/client-batch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { terminalText } from "../../../cli/app/format";
import { BatchRunFake } from "../batchRunFake";
import { FakeLogs } from "../cloudWatchLogsFake";
import { demoPerTest } from "../demoAccount";
import { offline, project, tempDir } from "../stackProject";
import { cli, cliContext, OUTPUTS } from "../support";

/** An OSC window title ending in BEL, a clear-screen CSI and a right-to-left override. */
const HOSTILE = "x\u001b]0;pwned\u0007y\u001b[2Jz\u202eabc.csv";
const SHOWN = "x\\x1b]0;pwned\\x07y\\x1b[2Jz\\u202eabc.csv";
/** What must never reach a terminal from a key or a log line (the CLI's own colours are `ESC [ … m`). */
const RAW = /\u001b\]|\u0007|\u001b\[2J|\u202e/;

describe("terminalText", () => {
  it.each<[string, string]>([
    [HOSTILE, SHOWN],
    ["tab\there\r\nline", "tab\\there\\r\\nline"],
    ["nul\u0000 del\u007f c1\u0085\u009b", "nul\\x00 del\\x7f c1\\x85\\x9b"],
    ["bidi \u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c", "bidi \\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u061c"],
    ["incoming/données 2026 (1)+é.csv — 数据 😀", "incoming/données 2026 (1)+é.csv — 数据 😀"],
  ])("%j → %j", (text, shown) => {
    expect(terminalText(text)).toBe(shown);
  });
});

describe("status, runs and watch print a hostile key escaped", () => {
  const { demo } = demoPerTest();

  it("in every line that shows it; --json keeps the key as it is", async () => {
    const { ctx, account } = await demo();
    const key = `incoming/${HOSTILE}`;
    const runId = await account.addRun({ key, sizeBytes: 10, at: -10 * 60_000, startFails: { reason: `Essential container in task exited ${HOSTILE}`, exitCode: 2, attempts: 1 } });

    /** What one command printed (the context's stdout accumulates). */
    const since = async (args: string[]) => {
      const before = ctx.stdout().length;
      const { stdout } = await cli(args, ctx);
      return { stdout: stdout.slice(before) };
    };
    const status = await since(["status", runId]);
    expect(status.stdout).toContain(`input    s3://batch-pipeline-dev-628b23-input-5f3e2a1/incoming/${SHOWN}\n`);
    expect(status.stdout).toContain(`exit 2  Essential container in task exited ${SHOWN}\n`);
    expect(status.stdout).not.toMatch(RAW);

    const runs = await since(["runs"]);
    expect(runs.stdout).toContain(`incoming/${SHOWN}`);
    expect(runs.stdout).not.toMatch(RAW);

    const watch = await since(["watch", runId]);
    expect(watch.stdout).toContain(`incoming/${SHOWN}`);
    expect(watch.stdout).not.toMatch(RAW);

    const json = await since(["status", runId, "--json"]);
    expect(JSON.parse(json.stdout).input.key).toBe(key);
  });
});

describe("logs prints a hostile log line escaped", () => {
  let restore: (() => void)[] = [];
  afterEach(() => {
    for (const r of restore) r();
    restore = [];
  });

  it("each line of a message; --json keeps the message", async () => {
    const batch = mockClient(BatchClient);
    const logs = mockClient(CloudWatchLogsClient);
    restore = [() => batch.restore(), () => logs.restore()];
    const fake = new BatchRunFake(batch);
    const store = new FakeLogs(logs);
    const RUN = "0123456789abcdef01234567";
    fake.addRun({ runId: RUN, start: "SUCCEEDED", steps: [{ name: "only", width: 1, status: () => "SUCCEEDED" }] });
    store.put(OUTPUTS.logGroupNames.process!, fake.streamOf("only-012345-0"), Date.parse("2026-12-01T11:01:00Z"), `read ${HOSTILE}\nthen \u001b[2J`);
    const text = await cli(["--stack", "dev", "logs", RUN], cliContext());
    expect(text.stderr).toBe("");
    expect(text.stdout).toContain(`read ${SHOWN}\n`);
    expect(text.stdout).toContain("then \\x1b[2J\n");
    expect(text.stdout).not.toMatch(RAW);
    const json = await cli(["--stack", "dev", "logs", RUN, "--json"], cliContext());
    expect(JSON.parse(json.stdout.trim()).message).toBe(`read ${HOSTILE}\nthen \u001b[2J`);
  });
});

describe("run --follow prints a task's hostile output escaped", () => {
  it("and the file's hostile name", async () => {
    const data = tempDir("bp-data-");
    const file = `${data}/${HOSTILE}`;
    (await import("node:fs")).writeFileSync(file, "a\n");
    const script = "printf 'out \\033]0;pwned\\007 \\033[2J \\342\\200\\256 end\\n'";
    const dir = project({ local: { "batch-pipeline:jobDefinitions": { t: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["sh", "-c", script] } }, "batch-pipeline:workflow": { steps: [{ name: "only", jobDefinition: "t" }] } } });
    const { code, stdout } = await cli(["run", file, "--stack", "local", "--executor", "process", "--follow", "--out", tempDir("bp-run-")], offline(dir, { PATH: process.env.PATH ?? "" }));
    expect(code).toBe(0);
    expect(stdout).toContain("out \\x1b]0;pwned\\x07 \\x1b[2J \\u202e end\n");
    expect(stdout).toContain(`incoming/${SHOWN}`);
    expect(stdout).toContain(SHOWN);
    expect(stdout).not.toMatch(RAW);
  });
});
