/**
 * The process job definitions of a local run, as the stack registers them: infra/pipeline.ts maps each
 * `jobDefinitions` entry of the config to a ContainerJobDefinition with the config's image, vCPUs, memory,
 * command and environment plus the output bucket and prefix (`TASK_ENV.outputBucket`/`outputPrefix`),
 * infra/containerProperties.ts adds AWS_REGION and AWS_DEFAULT_REGION, the attempt timeout is
 * `timeoutSeconds` and the retry strategy is `retryAttempts` with the default rules
 * (infra/retryStrategy.ts). Those modules load Pulumi, so the mapping is repeated here, and a test renders
 * the stack under Pulumi mocks and checks that both agree.
 */
import type { RetryStrategy } from "@aws-sdk/client-batch";
import { TASK_ENV } from "../../contract";
import type { PipelineConfig } from "../../infra/config";
import { retryStrategyOf } from "../../infra/retryStrategy";
import type { DefinitionContainer } from "./environment";

/** One job definition, resolved. */
export interface LocalDefinition extends DefinitionContainer {
  /** The config key (`jobDefinitions.<key>`). */
  key: string;
  image: string;
  vcpus: number;
  memoryMiB: number;
  /** `timeout.attemptDurationSeconds`. */
  timeoutSeconds: number;
  retryStrategy: RetryStrategy;
}

/** Where the stack's jobs write and which region they are told. */
export interface DefinitionContext {
  /** The input bucket's name (jobs write results into the same bucket, under the output prefix). */
  bucket: string;
  region?: string;
}

/** Every process job definition of `config` by key (not the barrier's: barrier jobs run no container locally). */
export function localDefinitions(config: PipelineConfig, context: DefinitionContext): Map<string, LocalDefinition> {
  const data = { [TASK_ENV.outputBucket]: context.bucket, [TASK_ENV.outputPrefix]: config.trigger.outputPrefix };
  const region: Record<string, string> = context.region ? { AWS_REGION: context.region, AWS_DEFAULT_REGION: context.region } : {};
  const definitions = new Map<string, LocalDefinition>();
  for (const [key, job] of Object.entries(config.jobDefinitions)) {
    definitions.set(key, {
      key,
      image: job.image,
      vcpus: job.vcpus,
      memoryMiB: job.memoryMiB,
      ...(job.command ? { command: [...job.command] } : {}),
      environment: { ...job.environment, ...data, ...region },
      // The stack registers no default parameters: every `Ref::` value comes from the request.
      parameters: {},
      timeoutSeconds: job.timeoutSeconds,
      retryStrategy: retryStrategyOf(job.retryAttempts),
    });
  }
  return definitions;
}
