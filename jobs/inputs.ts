/**
 * The start job's inputs: the environment the S3 trigger and the start job definition set (contract/env.ts
 * `START_JOB_ENV`), and the flags that override it, validated into {@link StartJobInputs}.
 */
import { z } from "zod";
import { decodeJobDefinitions, decodeTags, isTagText, MAX_TAG_VALUE_CHARS, RUN_ID_PATTERN, S3_MAX_KEY_BYTES, START_JOB_ENV, tagProblems, type InputObject } from "../contract";
import { parseWorkflowSpecJson, WorkflowSpecError, type WorkflowSpec } from "../workflow/spec";

/** The environment (or flags) did not validate; `problems` names each variable. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid input:\n- ${problems.join("\n- ")}`);
  }
}

/** Validated inputs of a run. */
export interface StartJobInputs {
  runId: string;
  input: InputObject;
  workflow: WorkflowSpec;
  jobQueue: string;
  jobDefinitions: Record<string, string>;
  /** Extra tags for every process job (`PIPELINE_JOB_TAGS`). */
  tags: Record<string, string>;
  /** The stack's id (`PIPELINE_STACK`): the `pipeline:stack` tag of every job, which IAM keys on. */
  stack: string;
  /** The stack's output prefix (`PIPELINE_OUTPUT_ROOT`); each run writes under `<outputRoot><runId>/`. */
  outputRoot?: string;
  /** `AWS_BATCH_JOB_ATTEMPT`, 1 outside Batch. */
  attempt: number;
  /** `AWS_BATCH_JOB_ID`, undefined outside Batch. */
  ownJobId?: string;
}

/** Flag → environment variable it overrides. */
export const FLAG_ENV = {
  runId: START_JOB_ENV.runId,
  bucket: START_JOB_ENV.bucket,
  key: START_JOB_ENV.key,
  versionId: START_JOB_ENV.versionId,
  size: START_JOB_ENV.size,
  etag: START_JOB_ENV.eTag,
  workflow: START_JOB_ENV.workflow,
  queue: START_JOB_ENV.processQueue,
  jobDefinitions: START_JOB_ENV.jobDefinitions,
  stack: START_JOB_ENV.stack,
} as const;

const required = (rule: string) => z.string(`is required (${rule})`).min(1, `is required (${rule})`);

const envSchema = z.object({
  [START_JOB_ENV.runId]: required("24 lowercase hex characters").regex(RUN_ID_PATTERN, `must match ${RUN_ID_PATTERN}`),
  [START_JOB_ENV.bucket]: required("the input bucket name").regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name"),
  [START_JOB_ENV.key]: required("the decoded object key").refine((k) => Buffer.byteLength(k) <= S3_MAX_KEY_BYTES, `must be at most ${S3_MAX_KEY_BYTES} bytes`),
  [START_JOB_ENV.versionId]: z.string().optional(),
  [START_JOB_ENV.size]: required("the object size in bytes")
    .regex(/^\d+$/, "must be a non-negative integer number of bytes")
    .transform(Number)
    .refine(Number.isSafeInteger, "is too large"),
  [START_JOB_ENV.eTag]: z.string().optional(),
  [START_JOB_ENV.workflow]: required("the workflow spec as JSON"),
  [START_JOB_ENV.processQueue]: required("the process job queue name or ARN"),
  [START_JOB_ENV.jobDefinitions]: required('JSON like {"process":"my-job-def"}'),
  [START_JOB_ENV.jobTags]: z.string().optional(),
  [START_JOB_ENV.stack]: required("the stack's id, a tag value")
    .refine((v) => Array.from(v).length <= MAX_TAG_VALUE_CHARS, `must be at most ${MAX_TAG_VALUE_CHARS} characters (an AWS tag value)`)
    .refine((v) => v.length > 0 && isTagText(v), "must be an AWS tag value (letters, digits, spaces and _ . : / = + - @)"),
  [START_JOB_ENV.outputRoot]: z
    .string()
    .refine((p) => Buffer.byteLength(p) <= S3_MAX_KEY_BYTES, `must be at most ${S3_MAX_KEY_BYTES} bytes`)
    .refine((p) => !p.startsWith("/"), "must be an S3 key prefix (not starting with /)")
    .optional(),
  AWS_BATCH_JOB_ATTEMPT: z.string().regex(/^[1-9]\d*$/, "must be a positive integer").transform(Number).optional(),
  AWS_BATCH_JOB_ID: z.string().optional(),
});

const flagFor = (variable: string) => {
  const flag = Object.entries(FLAG_ENV).find(([, v]) => v === variable)?.[0];
  return flag ? ` (--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})` : "";
};

/**
 * Validates the start job's inputs; flags win over the environment. Every problem names its variable.
 * @throws {InputError}
 */
export function readInputs(env: Record<string, string | undefined>, flags: Partial<Record<keyof typeof FLAG_ENV, string>> = {}): StartJobInputs {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, variable] of Object.entries(FLAG_ENV)) {
    const value = flags[flag as keyof typeof FLAG_ENV];
    if (value !== undefined) merged[variable] = value;
  }
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    throw new InputError(parsed.error.issues.map((i) => `${String(i.path[0])}${flagFor(String(i.path[0]))} ${i.message}`));
  }
  const e = parsed.data;
  const jobDefinitions = decodeJobDefinitions(e[START_JOB_ENV.jobDefinitions]);
  if (!jobDefinitions.ok) {
    const why = jobDefinitions.error === "json" ? "is not valid JSON" : jobDefinitions.message;
    throw new InputError([`${START_JOB_ENV.jobDefinitions}${flagFor(START_JOB_ENV.jobDefinitions)} ${why}`]);
  }
  let workflow: WorkflowSpec;
  try {
    workflow = parseWorkflowSpecJson(e[START_JOB_ENV.workflow], { jobDefinitionKeys: Object.keys(jobDefinitions.value) });
  } catch (err) {
    if (!(err instanceof WorkflowSpecError)) throw err;
    throw new InputError(err.issues.map((issue) => `${START_JOB_ENV.workflow}${flagFor(START_JOB_ENV.workflow)}: ${issue}`));
  }
  let tags: Record<string, string> = {};
  const rawTags = e[START_JOB_ENV.jobTags]?.trim();
  if (rawTags) {
    const decoded = decodeTags(rawTags);
    if (!decoded.ok) throw new InputError([`${START_JOB_ENV.jobTags} ${decoded.error === "json" ? "is not valid JSON" : decoded.message}`]);
    const broken = tagProblems(decoded.value);
    if (broken.length > 0) throw new InputError(broken.map((problem) => `${START_JOB_ENV.jobTags}: ${problem}`));
    tags = decoded.value;
  }
  const runId = e[START_JOB_ENV.runId];
  return {
    tags,
    stack: e[START_JOB_ENV.stack],
    runId,
    input: {
      bucket: e[START_JOB_ENV.bucket],
      key: e[START_JOB_ENV.key],
      ...(e[START_JOB_ENV.versionId] ? { versionId: e[START_JOB_ENV.versionId] } : {}),
      sizeBytes: e[START_JOB_ENV.size],
      ...(e[START_JOB_ENV.eTag] ? { eTag: e[START_JOB_ENV.eTag] } : {}),
    },
    workflow,
    jobQueue: e[START_JOB_ENV.processQueue],
    jobDefinitions: jobDefinitions.value,
    ...(e[START_JOB_ENV.outputRoot] ? { outputRoot: e[START_JOB_ENV.outputRoot] } : {}),
    attempt: e.AWS_BATCH_JOB_ATTEMPT ?? 1,
    ...(e.AWS_BATCH_JOB_ID ? { ownJobId: e.AWS_BATCH_JOB_ID } : {}),
  };
}
