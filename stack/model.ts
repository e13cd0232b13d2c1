/**
 * The stack model: what the validated config says the stack is, before Pulumi. The one mapping from a
 * process definition's config (`jobDefinitions.<key>`) to the job definition component's args and its
 * container's environment, the planner's barrier definition, the keys the orchestrator submits against, and
 * what the trigger filters on. Pure (no Pulumi, not even its types), so the stack (infra/pipeline.ts renders
 * it into components) and the CLI (`plan`, `run`, `submit`: cli/run/definitions.ts, cli/stack/target.ts)
 * read the same fields the same way.
 */
import { PlatformCapability } from "@aws-sdk/client-batch";
import { BARRIER_JOB_DEFINITION_KEY, type OrchestratorMode, TASK_ENV, type TriggerKeyFilter } from "../contract";
import type { JobPolicyStatement, PipelineConfig, ProcessJobConfig } from "./config";
import type { Platform } from "./batchRules";
import type { JobDefinitionArgs } from "./jobDefinitionArgs";
import { evaluateOnExitOf } from "./retryStrategy";

/**
 * A process definition's container fields as the job definition component takes them: the config's keys
 * are the component's (Batch's shapes), `retryOn` becomes the evaluateOnExit rules. The image and what
 * the pipeline adds (environment, role, platform) are the caller's.
 */
export function containerArgs(job: ProcessJobConfig): Omit<JobDefinitionArgs, "image" | "logRetentionDays"> {
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
 * An IAM policy statement as the role's policy document holds it (IAM User Guide, "IAM JSON policy elements
 * reference"), every value known: what {@link jobPolicyStatements} gives. The components take it as Pulumi's
 * `PolicyStatement` (infra/iam.ts), whose values may also be Outputs.
 */
export interface IamStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: JobPolicyStatement["Condition"];
}

/**
 * A definition's `policyStatements` as IAM statements, each with a Sid naming where it came from, and,
 * when there are any, a Deny that keeps the pipeline's promise whatever they allow: no job writes under
 * the trigger prefix (the pipeline would start itself). An explicit Deny wins over every Allow.
 */
export function jobPolicyStatements(statements: readonly JobPolicyStatement[], bucketArn: string, triggerPrefix: string): IamStatement[] {
  if (statements.length === 0) return [];
  const guard: IamStatement = { Sid: "NeverWriteInputs", Effect: "Deny", Action: ["s3:PutObject"], Resource: [`${bucketArn}/${triggerPrefix}*`] };
  return [...configStatements(statements), guard];
}

function configStatements(statements: readonly JobPolicyStatement[]): IamStatement[] {
  // `Config<i>` first keeps every Sid unique, and apart from the pipeline's own (IAM refuses duplicates).
  return statements.map((st, i) => ({ Sid: `Config${i}${st.Sid ?? ""}`, Effect: st.Effect, Action: [...st.Action], Resource: [...st.Resource], ...(st.Condition ? { Condition: st.Condition } : {}) }));
}


/**
 * A process container's environment: the definition's own, plus where its results go (the input bucket,
 * `TASK_ENV.outputBucket`; the planner sets each run's prefix). `bucket` is the deployed name: an Output in
 * the stack, a string in the CLI.
 */
export function processEnvironment<Bucket>(job: Pick<ProcessJobConfig, "environment">, bucket: Bucket): Record<string, string | Bucket> {
  return { ...job.environment, [TASK_ENV.outputBucket]: bucket };
}

/**
 * The no-op job the planner uses to fan in more than 20 dependencies: tiny, and retried only when Spot
 * takes its capacity away. On Fargate, the smallest size Fargate runs.
 */
export function barrierJob(platform: Platform): ProcessJobConfig {
  const fargate = platform === PlatformCapability.FARGATE;
  return {
    image: "public.ecr.aws/docker/library/busybox:1.37",
    command: ["true"],
    environment: {},
    vcpus: fargate ? 0.25 : 1,
    memoryMiB: fargate ? 512 : 128,
    timeoutSeconds: 300,
    retryAttempts: 2,
  };
}

/** The job definition keys the orchestrator submits against: the config's process definitions and the barrier's. */
export const definitionKeys = (config: { jobDefinitions: Readonly<Record<string, unknown>> }): string[] => [...Object.keys(config.jobDefinitions), BARRIER_JOB_DEFINITION_KEY];

/** What the trigger filters keys on (contract/trigger.ts), from `trigger`. */
export const triggerKeyFilter = (trigger: Pick<PipelineConfig["trigger"], "prefix" | "suffix" | "outputPrefix">): TriggerKeyFilter => ({
  prefix: trigger.prefix,
  suffix: trigger.suffix,
  outputPrefix: trigger.outputPrefix,
});

/**
 * Who submits a run's DAG as the trigger is deployed: `orchestrator.mode`, except that `auto` with
 * `orchestrator.wait` is `container` (a run submitted inline has no start job to wait in; the config refuses
 * `inline` with `wait`, stack/config/workflowRules.ts inlineWaitRule).
 */
export function triggerOrchestratorMode(orchestrator: { mode: OrchestratorMode; wait: boolean }): OrchestratorMode {
  return orchestrator.mode === "auto" && orchestrator.wait ? "container" : orchestrator.mode;
}
