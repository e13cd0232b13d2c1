/** Invoking a serialized trigger Lambda in a fresh Node process, as the Lambda runtime would. */
import * as path from "node:path";
import { awsEnv, lastJsonLine, ROOT, runNode } from "./node";

export const START_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/high";
/** The stack id infra/trigger.ts gives the Lambda (`PIPELINE_STACK`, its resource prefix). */
export const STACK = "batch-pipeline-dev-628b23";

/** An S3 notification for objects of `input-bucket`. */
export function s3Event(...records: { key: string; versionId?: string; size?: number; eventName?: string; bucket?: string }[]) {
  return {
    Records: records.map((r) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "eu-west-1",
      eventName: r.eventName ?? "ObjectCreated:Put",
      s3: {
        bucket: { name: r.bucket ?? "input-bucket", arn: `arn:aws:s3:::${r.bucket ?? "input-bucket"}` },
        object: { key: r.key, size: r.size ?? 10, eTag: "abc", versionId: r.versionId, sequencer: "00A1" },
      },
    })),
  };
}

/**
 * An event source mapping's SQS batch (`trigger.delivery: queue`) of these message bodies (an object sent as
 * its JSON, a string as is), message `i` with id `m-<i>` (Lambda developer guide, "Using Lambda with Amazon SQS").
 */
export function sqsBatch(...bodies: unknown[]) {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      receiptHandle: `AQEB${i}`,
      body: typeof body === "string" ? body : JSON.stringify(body),
      attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1796119200000", SenderId: "AIDAIENQZJOLO23YVJ4VO", ApproximateFirstReceiveTimestamp: "1796119200100" },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:batch-pipeline-dev-628b23-trigger-queue-0f1e2d3",
      awsRegion: "eu-west-1",
    })),
  };
}

export interface Invocation {
  ok: boolean;
  result?: any;
  error?: { name: string; message: string };
  loadMs: number;
  invokeMs: number;
}

/** The environment infra/trigger.ts gives the trigger, its AWS clients pointed at `endpoint` (`extraEnv` on top). */
export function lambdaEnv(endpoint: string, extraEnv: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...awsEnv(endpoint),
    AWS_LAMBDA_FUNCTION_NAME: "trigger",
    START_QUEUE,
    START_JOB_DEFINITION: "start-def",
    IDEMPOTENCY_TABLE: "idempotency",
    IDEMPOTENCY_TTL_SECONDS: "604800",
    IGNORE_PREFIX: "results/",
    TRIGGER_BUCKET: "input-bucket",
    TRIGGER_PREFIX: "incoming/",
    PIPELINE_STACK: STACK,
    START_JOB_TAGS: '{"project":"batch-pipeline"}',
    ...extraEnv,
  };
}

/**
 * Loads `<dir>/__index.js` in a fresh process (scripts/lambda-invoke.cjs) and invokes its handler with
 * `event`, with {@link lambdaEnv}; `remainingMs`: what the context's `getRemainingTimeInMillis()` counts down from.
 */
export async function invokeLambda(dir: string, event: unknown, endpoint: string, extraEnv: Record<string, string> = {}, remainingMs?: number): Promise<Invocation> {
  const out = await runNode([path.join(ROOT, "scripts", "lambda-invoke.cjs"), dir, ...(remainingMs === undefined ? [] : [String(remainingMs)])], {
    cwd: dir,
    input: JSON.stringify(event),
    env: lambdaEnv(endpoint, extraEnv),
  });
  if (out.code !== 0) throw new Error(`lambda-invoke exited ${out.code}: ${out.stderr}`);
  return lastJsonLine(out.stdout);
}
