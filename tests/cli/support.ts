/**
 * Drives `batch-pipeline` in-process: a {@link CliContext} whose terminal is captured (TTY or not), whose
 * AWS clients are real SDK clients behind aws-sdk-client-mock (each test file mocks the classes it needs),
 * whose clock and sleep are fake, and whose Pulumi CLI returns {@link OUTPUTS} (or is absent).
 */
import { BatchClient } from "@aws-sdk/client-batch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { resolve } from "node:path";
import { type AwsClients, type CliContext, colors } from "../../cli/app/context";
import type { StackOutputs } from "../../cli/stack/outputs";
import { runCli } from "../../cli/app/program";
import { FakeClock } from "../support/clock";

/** The repository root: it has Pulumi.yaml, Pulumi.dev.yaml and Pulumi.prod.yaml. */
export const REPO = resolve(__dirname, "../..");

export const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const PREFIX = "batch-pipeline-dev-628b23";

/** What `pulumi stack output --json --stack dev` prints for a deployed dev stack (names as Pulumi makes them). */
export const OUTPUTS: StackOutputs = {
  inputBucketName: `${PREFIX}-input-5f3e2a1`,
  startQueueArn: `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${PREFIX}-high-q-0a1b2c3`,
  processQueueArn: `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${PREFIX}-low-q-4d5e6f7`,
  queueArns: {
    high: `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${PREFIX}-high-q-0a1b2c3`,
    low: `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${PREFIX}-low-q-4d5e6f7`,
  },
  jobDefinitionNames: { process: `${PREFIX}-process-jd-1a2b3c4`, barrier: `${PREFIX}-barrier-jd-5d6e7f8` },
  startJobDefinitionName: `${PREFIX}-orchestrator-start-jd-9a8b7c6`,
  logGroupNames: { process: `/aws/batch/${PREFIX}-process`, barrier: `/aws/batch/${PREFIX}-barrier`, start: `/aws/batch/${PREFIX}-start` },
  jobStateLogGroup: `/aws/events/${PREFIX}-obs/job-states`,
  triggerFunctionName: `${PREFIX}-trigger-fn-3c4d5e6`,
  deadLetterQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${PREFIX}-trigger-dlq-7f8a9b0`,
  triggerPrefix: "incoming/",
  triggerSuffix: "",
  outputPrefix: "results/",
};

/** Options of {@link cliContext}. */
export interface TestContextOptions {
  isTTY?: boolean;
  stdinIsTTY?: boolean;
  columns?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Start of the fake clock (ms). @default 2026-12-01T12:00:00Z */
  now?: number;
  /** Answers to `confirm`, in order; a missing answer is "no". */
  answers?: boolean[];
  /** What `pulumi stack output --json` prints; `null`: the Pulumi CLI is not installed. @default OUTPUTS */
  pulumiOutputs?: StackOutputs | null;
  /** Aborts the context's signal after this many `sleep` calls (a Ctrl-C during a poll). */
  abortAfterSleeps?: number;
}

/** A test context and what the command wrote. */
export interface TestContext extends CliContext {
  stdout(): string;
  stderr(): string;
  /** The context's clock: `now` reads it, `sleep` moves it (tests/support/clock.ts); a Batch model may share it. */
  clock: FakeClock;
  /** Each `sleep` call's duration. */
  slept: number[];
  /** The questions `confirm` was asked. */
  questions: string[];
  /** Every `pulumi` invocation's arguments. */
  pulumiCalls: string[][];
  controller: AbortController;
}

function sdkClientsForTests(): AwsClients {
  const config = { region: REGION, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" } };
  const batch = new BatchClient(config);
  const s3 = new S3Client(config);
  const logs = new CloudWatchLogsClient(config);
  const sqs = new SQSClient(config);
  const lambda = new LambdaClient(config);
  return { batch: () => batch, s3: () => s3, logs: () => logs, sqs: () => sqs, lambda: () => lambda };
}

export function cliContext(options: TestContextOptions = {}): TestContext {
  let out = "";
  let err = "";
  const clock = new FakeClock(options.now ?? Date.parse("2026-12-01T12:00:00Z"));
  const answers = [...(options.answers ?? [])];
  const controller = new AbortController();
  const clients = sdkClientsForTests();
  const isTTY = options.isTTY ?? false;
  const ctx: TestContext = {
    term: {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      isTTY,
      stdinIsTTY: options.stdinIsTTY ?? isTTY,
      columns: options.columns ?? (isTTY ? 100 : 80),
      color: colors(false),
    },
    env: options.env ?? {},
    cwd: options.cwd ?? REPO,
    now: clock.now,
    clock,
    slept: clock.slept,
    questions: [],
    pulumiCalls: [],
    controller,
    signal: controller.signal,
    sleep: async (ms) => {
      await clock.sleep(ms);
      if (options.abortAfterSleeps !== undefined && ctx.slept.length >= options.abortAfterSleeps) controller.abort("SIGINT");
    },
    aws: () => clients,
    confirm: async (question) => {
      ctx.questions.push(question);
      return answers.shift() ?? false;
    },
    pulumi: async (args) => {
      ctx.pulumiCalls.push([...args]);
      const outputs = options.pulumiOutputs === undefined ? OUTPUTS : options.pulumiOutputs;
      return outputs === null ? undefined : JSON.stringify(outputs);
    },
    stdout: () => out,
    stderr: () => err,
  };
  return ctx;
}

/** Runs `batch-pipeline ...argv` in `ctx` (default: a non-TTY context) and returns the exit code and output. */
export async function cli(argv: string[], ctx: TestContext = cliContext()) {
  const code = await runCli(argv, ctx);
  return { code, stdout: ctx.stdout(), stderr: ctx.stderr(), ctx };
}
