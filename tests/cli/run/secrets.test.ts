/**
 * A definition's `secrets` in a local run: ECS reads them from SSM or Secrets Manager in AWS; here a secret
 * takes the same-named variable of the caller's environment, and those left without a value are named on
 * stderr before the run (they used to be silently unset).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { offline, project, tempDir } from "../stackProject";
import { cli, REPO } from "../support";

const SAMPLE = join(REPO, "tests/cli/run/fixtures/sample.csv");
const SSM = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db-password";
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/api-token-AbC123";

function secretsStack(): string {
  return project({
    local: {
      "batch-pipeline:jobDefinitions": {
        shell: {
          image: "public.ecr.aws/docker/library/busybox:1.37",
          command: ["sh", "-c", 'echo "db=${DB_PASSWORD-unset} api=${API_TOKEN-unset}"'],
          secrets: [{ name: "DB_PASSWORD", valueFrom: SSM }, { name: "API_TOKEN", valueFrom: SECRET }],
        },
      },
      "batch-pipeline:workflow": { steps: [{ name: "only", jobDefinition: "shell" }] },
    },
  });
}

describe("run: secrets", () => {
  it("gives a secret the caller's same-named variable, and names the secrets left unset", async () => {
    const out = tempDir("bp-run-");
    const env = { PATH: process.env.PATH ?? "", DB_PASSWORD: "from-my-shell" };
    const { code, stdout, stderr } = await cli(["run", SAMPLE, "--stack", "local", "--executor", "process", "--out", out], offline(secretsStack(), env));
    expect(code).toBe(0);
    expect(stderr).toContain("note: jobDefinitions.shell's secrets API_TOKEN are unset in this run: in AWS ECS reads them from SSM or Secrets Manager; here export it (same name) to give the tasks a value");
    expect(stderr).not.toContain("DB_PASSWORD are unset");
    const runId = /^run ([0-9a-f]{24}) /m.exec(stdout)![1]!;
    expect(readFileSync(join(out, runId, "logs", "only", "0.log"), "utf8")).toBe("db=from-my-shell api=unset\n");
  });
});
