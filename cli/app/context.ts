/**
 * Everything a `batch-pipeline` command touches outside its own code, injected so that tests drive every
 * command without a terminal, AWS, the Pulumi CLI or real time: the terminal (text out, TTY or not,
 * colours), the environment, the clock, the AWS clients, the confirmation prompt and `pulumi` itself.
 * {@link processContext} builds the real one; tests build theirs with {@link createContext}.
 */
import { execFile } from "node:child_process";
import { createInterface } from "node:readline/promises";
import type { BatchClient } from "@aws-sdk/client-batch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import pc from "picocolors";

/** The colour functions commands use; every one is the identity when colour is off. */
export type Colors = Omit<ReturnType<typeof pc.createColors>, "isColorSupported">;

/** The terminal a command writes to. */
export interface Terminal {
  /** Writes to stdout (the command's result: text, or JSON with `--json`). */
  out(text: string): void;
  /** Writes to stderr (progress, warnings, errors). */
  err(text: string): void;
  /** stdout is a terminal: redraw screens in place, draw progress bars, ask before destructive work. */
  isTTY: boolean;
  /** stdin is a terminal, so a question can be answered. */
  stdinIsTTY: boolean;
  /** Width of the terminal (80 when not a TTY). */
  columns: number;
  /** Colours: on only on a TTY, without `NO_COLOR`, and without `--no-color`. */
  color: Colors;
}

/**
 * The AWS clients, created on first use (so `validate` and `plan` never need credentials). Every client
 * takes the region, profile and endpoint from the environment as the SDK does: `AWS_REGION`,
 * `AWS_PROFILE`, `AWS_ENDPOINT_URL` (and per-service `AWS_ENDPOINT_URL_<SERVICE>`). `region` comes from
 * the stack's `aws:region` when `AWS_REGION` is unset.
 */
export interface AwsClients {
  batch(): Pick<BatchClient, "send">;
  s3(): S3Client;
  logs(): Pick<CloudWatchLogsClient, "send">;
  sqs(): Pick<SQSClient, "send">;
  lambda(): Pick<LambdaClient, "send">;
}

/** What every command runs with. */
export interface CliContext {
  term: Terminal;
  env: Readonly<Record<string, string | undefined>>;
  /** Where relative paths (stack files, `--outputs`, files to submit) are resolved. */
  cwd: string;
  now(): number;
  /** Resolves after `ms`, or early when {@link signal} aborts. */
  sleep(ms: number): Promise<void>;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
  /** AWS clients for a region (`undefined`: the SDK's own resolution from the environment). */
  aws(region?: string): AwsClients;
  /** Asks a yes/no question on the terminal; false unless answered yes. */
  confirm(question: string): Promise<boolean>;
  /**
   * Runs the Pulumi CLI with `args` in `cwd` and returns its stdout, or `undefined` when the CLI is not
   * installed. Throws when it ran and failed.
   */
  pulumi(args: readonly string[], cwd: string): Promise<string | undefined>;
}

/** Whether a terminal should get colour: only a TTY, never with `NO_COLOR` set (no-color.org) or `TERM=dumb`; `FORCE_COLOR` forces it. */
export function colorEnabled(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return isTTY && env.TERM !== "dumb";
}

/** Colour functions, on or off. */
export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

/** A sleep that ends at once when `signal` aborts. */
export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
}

/**
 * The real AWS clients, each loaded and created on first use (so `--help`, `validate` and `plan` load no
 * SDK client). Batch and Logs use adaptive retries: they pace themselves once throttled, which matters
 * because Batch's DescribeJobs shares the account's API budget with every run's SubmitJob calls.
 */
export function sdkClients(region?: string): AwsClients {
  const config = region ? { region } : {};
  const memo = <T>(make: () => T) => {
    let client: T | undefined;
    return () => (client ??= make());
  };
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded lazily on purpose */
  return {
    batch: memo(() => new (require("@aws-sdk/client-batch") as typeof import("@aws-sdk/client-batch")).BatchClient({ ...config, retryMode: "adaptive", maxAttempts: 5 })),
    s3: memo(() => new (require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3")).S3Client(config)),
    logs: memo(() => new (require("@aws-sdk/client-cloudwatch-logs") as typeof import("@aws-sdk/client-cloudwatch-logs")).CloudWatchLogsClient({ ...config, retryMode: "adaptive" })),
    // useQueueUrlAsEndpoint (@aws-sdk/middleware-sdk-sqs, queue-url.d.ts: "In cases where a QueueUrl is given
    // as input, that will be preferred as the request endpoint. Set this value to false to ignore the
    // QueueUrl and use the client's resolved endpoint, which may be a custom endpoint.") defaults to true,
    // and its middleware counts only a constructor `endpoint` as custom: with AWS_ENDPOINT_URL(_SQS) or a
    // profile's endpoint_url every call still went to the queue URL's host (ENOTFOUND against emulators and
    // VPC endpoints). Off, the client's resolved endpoint wins; without one configured that is
    // sqs.<region>.amazonaws.com, the host of the stack's own queue URL (a queue in another region than the
    // client's fails either way: SigV4 signs for the client's region).
    sqs: memo(() => new (require("@aws-sdk/client-sqs") as typeof import("@aws-sdk/client-sqs")).SQSClient({ ...config, useQueueUrlAsEndpoint: false })),
    lambda: memo(() => new (require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda")).LambdaClient(config)),
  };
}

/** Runs `pulumi` if it is on the PATH. */
function runPulumi(args: readonly string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile("pulumi", [...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") return resolve(undefined);
      if (error) return reject(new Error(`pulumi ${args.join(" ")} failed: ${String(stderr).trim() || error.message}`));
      resolve(String(stdout));
    });
  });
}

/** The context of a real process: its stdout/stderr, environment, clock and signals. */
export function processContext(signal: AbortSignal, options: { color?: boolean } = {}): CliContext {
  const isTTY = Boolean(process.stdout.isTTY);
  const enabled = options.color === false ? false : colorEnabled(isTTY, process.env);
  const clients = new Map<string, AwsClients>();
  return {
    term: {
      out: (t) => void process.stdout.write(t),
      err: (t) => void process.stderr.write(t),
      isTTY,
      stdinIsTTY: Boolean(process.stdin.isTTY),
      columns: process.stdout.columns ?? 80,
      color: colors(enabled),
    },
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    sleep: abortableSleep(signal),
    signal,
    aws: (region) => {
      const key = region ?? "";
      if (!clients.has(key)) clients.set(key, sdkClients(region));
      return clients.get(key)!;
    },
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `, { signal });
        return /^y(es)?$/i.test(answer.trim());
      } catch {
        return false;
      } finally {
        rl.close();
      }
    },
    pulumi: runPulumi,
  };
}
