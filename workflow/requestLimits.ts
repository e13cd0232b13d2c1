/**
 * The limits Batch and ECS put on one SubmitJob request, checked before it is sent (docs/aws-batch-limits.md).
 */
import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { CONTAINER_OVERRIDES_HEADROOM_CHARS, JOB_NAME_PATTERN, MAX_CONTAINER_OVERRIDES_CHARS, S3_MAX_KEY_BYTES, type InputObject } from "../contract";
import type { PlannedJob } from "./planner";

/** Batch caps `dependsOn` at 20 entries per job. */
export const MAX_DEPENDENCIES_PER_JOB = 20;

/** SubmitJob rejects payloads over 30 KiB; long commands or environments could get there. */
export const MAX_SUBMIT_JOB_PAYLOAD_BYTES = 30 * 1024;

/**
 * What Batch or ECS would refuse about one planned request, as a message naming the job and the limit:
 * an invalid job name, more than 20 dependencies, a SubmitJob payload over 30 KiB, or container overrides
 * over ECS's 8,192 characters once Batch has added its own variables.
 */
export function requestProblem(job: Pick<PlannedJob, "id" | "step" | "dependsOn" | "request">): string | undefined {
  if (!JOB_NAME_PATTERN.test(job.request.jobName)) return `job name \`${job.request.jobName}\` is not a valid Batch job name`;
  if (job.dependsOn.length > MAX_DEPENDENCIES_PER_JOB) return `job \`${job.id}\` has ${job.dependsOn.length} dependencies (limit ${MAX_DEPENDENCIES_PER_JOB})`;
  // Measured with room for the dependsOn entries the submitter adds (a job id is 36 characters).
  const bytes = Buffer.byteLength(JSON.stringify(job.request)) + job.dependsOn.length * 64;
  if (bytes > MAX_SUBMIT_JOB_PAYLOAD_BYTES) {
    return `job \`${job.id}\`: its SubmitJob request is about ${bytes} bytes, over Batch's ${MAX_SUBMIT_JOB_PAYLOAD_BYTES}; shorten the step's command, environment or parameters`;
  }
  // SubmitJob takes what ECS then refuses to start: check what ECS checks.
  const overrides = containerOverridesLength(job.request);
  if (overrides + CONTAINER_OVERRIDES_HEADROOM_CHARS > MAX_CONTAINER_OVERRIDES_CHARS) {
    return (
      `step \`${job.step}\`, job \`${job.id}\`: its container overrides are ${overrides} characters as JSON, ` +
      `${overrides + CONTAINER_OVERRIDES_HEADROOM_CHARS} with the ${CONTAINER_OVERRIDES_HEADROOM_CHARS} that Batch adds, over ECS's limit of ${MAX_CONTAINER_OVERRIDES_CHARS} ` +
      `("Container Overrides length must be at most ${MAX_CONTAINER_OVERRIDES_CHARS}": Batch would accept the job and it would fail at start); ` +
      "shorten the step's command or environment, or the input key"
    );
  }
  return undefined;
}

/**
 * Length of a request's container overrides as ECS measures them (JSON), before Batch adds its own
 * variables ({@link CONTAINER_OVERRIDES_HEADROOM_CHARS}). `Ref::name` placeholders in the command count
 * with their parameter substituted, as Batch sends them to ECS; substituted wherever they occur in an
 * argument, which is never less than Batch does. Counted in UTF-8 bytes, never fewer than characters, so the
 * check holds whichever ECS counts.
 */
export function containerOverridesLength(request: Pick<SubmitJobCommandInput, "containerOverrides" | "parameters">): number {
  const overrides = request.containerOverrides ?? {};
  const names = Object.keys(request.parameters ?? {}).sort((a, b) => b.length - a.length);
  // A replacer function: a value's `$&`, `$'` or `$$` is text, not a replacement pattern (a key may hold them).
  const substitute = (arg: string) => names.reduce((out, name) => out.replaceAll(`Ref::${name}`, () => request.parameters![name]!), arg);
  const command = overrides.command?.map(substitute);
  return Buffer.byteLength(JSON.stringify(command ? { ...overrides, command } : overrides));
}

/**
 * The largest input object a run can get, for planning a stack's workflow before any object exists (e.g.
 * at `pulumi preview`, to fail naming the step rather than at the first upload): a key of 1,024 bytes
 * (S3's maximum) of single-byte characters that JSON does not escape, a 63-character bucket name, a long
 * version id (as in the S3 documentation's examples), a multipart ETag of 10,000 parts and the largest
 * size the start job accepts (`Number.MAX_SAFE_INTEGER`, which also gives size-derived steps their
 * largest width). A key of characters JSON escapes (`"`, `\`, control characters) is longer still as JSON;
 * the start job refuses to plan for such an object (exit code `invalidInput`) rather than submit jobs that
 * cannot start.
 */
export function worstCaseInput(overrides: Partial<InputObject> = {}): InputObject {
  return {
    bucket: "b".repeat(63),
    key: "k".repeat(S3_MAX_KEY_BYTES),
    versionId: "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
    sizeBytes: Number.MAX_SAFE_INTEGER,
    eTag: `${"f".repeat(32)}-10000`,
    ...overrides,
  };
}
