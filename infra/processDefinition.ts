/**
 * The one mapping from a process definition's config (`jobDefinitions.<key>`) to the job definition
 * component's args. Pure (types only from Pulumi's side), so the stack (infra/pipeline.ts) and the local
 * run (cli/local/definitions.ts) read the same fields the same way.
 */
import type { JobPolicyStatement, ProcessJobConfig } from "./config";
import type { PolicyStatement } from "./iam";
import type { ContainerJobDefinitionArgs } from "./jobDefinition";
import { evaluateOnExitOf } from "./retryStrategy";

/**
 * A process definition's container fields as the job definition component takes them: the config's keys
 * are the component's (Batch's shapes), `retryOn` becomes the evaluateOnExit rules. The image and what
 * the pipeline adds (environment, role, platform) are the caller's.
 */
export function containerArgs(job: ProcessJobConfig): Omit<ContainerJobDefinitionArgs, "image" | "logRetentionDays"> {
  return {
    vcpus: job.vcpus,
    memoryMiB: job.memoryMiB,
    gpus: job.gpus,
    command: job.command,
    environment: job.environment,
    parameters: job.parameters,
    secrets: job.secrets,
    volumes: job.volumes,
    mountPoints: job.mountPoints,
    ephemeralStorageGiB: job.ephemeralStorageGiB,
    sharedMemoryMiB: job.sharedMemoryMiB,
    ulimits: job.ulimits,
    user: job.user,
    readonlyRootFilesystem: job.readonlyRootFilesystem,
    timeoutSeconds: job.timeoutSeconds,
    retryAttempts: job.retryAttempts,
    evaluateOnExit: evaluateOnExitOf(job.retryOn),
  };
}

/** A definition's `policyStatements` as IAM statements, each with a Sid naming where it came from. */
export function jobPolicyStatements(statements: readonly JobPolicyStatement[]): PolicyStatement[] {
  return statements.map((st, i) => ({ Sid: st.Sid ?? `Config${i}`, Effect: st.Effect, Action: [...st.Action], Resource: [...st.Resource], ...(st.Condition ? { Condition: st.Condition } : {}) }));
}

