/**
 * A local task's command and environment, assembled the way Batch assembles a container's: the job
 * definition's environment overridden by the request's `containerOverrides.environment`, the request's
 * command (else the definition's) with `Ref::name` placeholders substituted from the request's
 * parameters over the definition's defaults, and the variables Batch itself sets (`AWS_BATCH_*`).
 * Pure: the scheduler calls {@link taskEnvironment} at each attempt's start.
 *
 * Sources: "Job definition parameters" → Parameters and "Parameter substitution" (Batch user guide:
 * `Ref::` placeholders in `command`, SubmitJob parameters take precedence over the definition's
 * defaults); "AWS Batch job environment variables" (Batch user guide: AWS_BATCH_JOB_ID,
 * AWS_BATCH_JOB_ATTEMPT from 1, AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE in array
 * children only, AWS_BATCH_JQ_NAME, AWS_BATCH_CE_NAME); SubmitJob's ContainerOverrides (API reference:
 * an override replaces the definition's command, and overrides or adds environment variables).
 */
import type { ContainerOverrides } from "@aws-sdk/client-batch";
import { substituteParameters } from "../../workflow/spec";

/** The variables Batch sets in every container (a subset of contract's BATCH_INJECTED_ENVIRONMENT_WORST_CASE, checked by a test). */
export const BATCH_ENV = {
  jobId: "AWS_BATCH_JOB_ID",
  attempt: "AWS_BATCH_JOB_ATTEMPT",
  arrayIndex: "AWS_BATCH_JOB_ARRAY_INDEX",
  arraySize: "AWS_BATCH_JOB_ARRAY_SIZE",
  queue: "AWS_BATCH_JQ_NAME",
  computeEnvironment: "AWS_BATCH_CE_NAME",
} as const;


/** `AWS_BATCH_CE_NAME` of a local run: there is no compute environment, only this machine. */
export const LOCAL_COMPUTE_ENVIRONMENT = "local";

/** Batch's `Ref::` substitution (workflow/spec.ts), shared with the config's check that every placeholder has a value. */
export { substituteParameters };

/** What a job definition contributes to its jobs' containers. */
export interface DefinitionContainer {
  command?: readonly string[];
  environment: Readonly<Record<string, string>>;
  /** Default values of `Ref::` parameters. */
  parameters: Readonly<Record<string, string>>;
}

/** The request fields that shape a container (a planned SubmitJob request). */
export interface ContainerRequest {
  containerOverrides?: ContainerOverrides;
  parameters?: Record<string, string>;
}

/**
 * The command a job's containers run: the override's, else the definition's, parameters substituted;
 * undefined when neither has one (the image's own command runs).
 */
export function jobCommand(definition: DefinitionContainer, request: ContainerRequest): string[] | undefined {
  const command = request.containerOverrides?.command ?? definition.command;
  return command && substituteParameters(command, { ...definition.parameters, ...request.parameters });
}

/** The environment a job's containers share: the definition's, overridden and extended by the request's overrides. */
export function jobEnvironment(definition: DefinitionContainer, request: ContainerRequest): Record<string, string> {
  const environment: Record<string, string> = { ...definition.environment };
  for (const { name, value } of request.containerOverrides?.environment ?? []) if (name !== undefined) environment[name] = value ?? "";
  return environment;
}

/** The queue's name as `AWS_BATCH_JQ_NAME` holds it: the last part of an ARN, or the name itself. */
export function queueName(jobQueue: string): string {
  return jobQueue.includes(":job-queue/") ? jobQueue.slice(jobQueue.lastIndexOf("/") + 1) : jobQueue;
}

/** One attempt's identity: the job id (`<parent>:<index>` for an array child) and the attempt number (from 1). */
export interface AttemptIdentity {
  jobId: string;
  attempt: number;
  /** Array children only. */
  arrayIndex?: number;
  arraySize?: number;
}

/** A task's full environment for one attempt: its job's, then what Batch sets. */
export function taskEnvironment(jobEnv: Readonly<Record<string, string>>, id: AttemptIdentity): Record<string, string> {
  const env: Record<string, string> = { ...jobEnv, [BATCH_ENV.jobId]: id.jobId, [BATCH_ENV.attempt]: String(id.attempt) };
  if (id.arrayIndex !== undefined) {
    env[BATCH_ENV.arrayIndex] = String(id.arrayIndex);
    env[BATCH_ENV.arraySize] = String(id.arraySize);
  }
  return env;
}
