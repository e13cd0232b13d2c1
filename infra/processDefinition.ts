/**
 * The one mapping from a process definition's config (`jobDefinitions.<key>`) to the job definition
 * component's args. Pure (types only from Pulumi's side), so the stack (infra/pipeline.ts) and the local
 * run (cli/run/definitions.ts) read the same fields the same way.
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

/**
 * A definition's `policyStatements` as IAM statements, each with a Sid naming where it came from, and,
 * when there are any, a Deny that keeps the pipeline's promise whatever they allow: no job writes under
 * the trigger prefix (the pipeline would start itself). An explicit Deny wins over every Allow.
 */
export function jobPolicyStatements(statements: readonly JobPolicyStatement[], bucketArn: string, triggerPrefix: string): PolicyStatement[] {
  if (statements.length === 0) return [];
  const guard: PolicyStatement = { Sid: "NeverWriteInputs", Effect: "Deny", Action: ["s3:PutObject"], Resource: [`${bucketArn}/${triggerPrefix}*`] };
  return [...configStatements(statements), guard];
}

function configStatements(statements: readonly JobPolicyStatement[]): PolicyStatement[] {
  // `Config<i>` first keeps every Sid unique, and apart from the pipeline's own (IAM refuses duplicates).
  return statements.map((st, i) => ({ Sid: `Config${i}${st.Sid ?? ""}`, Effect: st.Effect, Action: [...st.Action], Resource: [...st.Resource], ...(st.Condition ? { Condition: st.Condition } : {}) }));
}

