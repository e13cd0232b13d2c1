/** Runs a Node script in a fresh process, as the Lambda runtime or the container would. */
import { execFile } from "node:child_process";
import * as path from "node:path";

/** The repository's root. */
export const ROOT = path.resolve(__dirname, "../..");

/** The environment of a fresh process whose AWS SDK clients talk to the stub at `endpoint`. */
export function awsEnv(endpoint: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
  };
}

export interface NodeRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runNode(
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd?: string; input?: string },
): Promise<NodeRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { env: opts.env, cwd: opts.cwd }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? "");
  });
}

/** The last line of stdout, parsed: the scripts print their result as one JSON line. */
export const lastJsonLine = <T>(stdout: string): T => JSON.parse(stdout.trim().split("\n").pop()!) as T;
