/**
 * The process job definitions of a local run, as the stack registers them: the stack model
 * (stack/model.ts: `containerArgs` and `processEnvironment`, what infra/pipeline.ts renders too: command,
 * environment with the output bucket, default parameters, the attempt timeout and the retry strategy with
 * `retryOn`), plus what a local run adds: the region infra/containerProperties.ts adds in AWS, and the
 * secrets' values from the caller's environment.
 */
import type { RetryStrategy } from "@aws-sdk/client-batch";
import type { PipelineConfig } from "../../stack/config";
import { containerArgs, processEnvironment } from "../../stack/model";
import { retryStrategyOf } from "../../stack/retryStrategy";
import type { DefinitionContainer } from "./environment";

/** One job definition, resolved. */
export interface LocalDefinition extends DefinitionContainer {
  /** The config key (`jobDefinitions.<key>`). */
  key: string;
  /** The pinned image, or `build:<folder>` for a definition whose image `pulumi up` builds from a folder. */
  image: string;
  /** The folder of this repository its image is built from (`jobDefinitions.<key>.build.context`), if any. */
  buildContext?: string;
  /** Its `secrets` that the caller's environment gave no value: they are unset in the task (ECS reads them in AWS). */
  missingSecrets: string[];
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
  /**
   * Where a local run finds its secrets' values: a secret `DB_PASSWORD` takes `DB_PASSWORD` of this
   * environment (the caller's), since only ECS can read SSM and Secrets Manager for the task. @default none
   */
  secretValues?: Readonly<Record<string, string | undefined>>;
}

/** Every process job definition of `config` by key (not the barrier's: barrier jobs run no container locally). */
export function localDefinitions(config: PipelineConfig, context: DefinitionContext): Map<string, LocalDefinition> {
  const region: Record<string, string> = context.region ? { AWS_REGION: context.region, AWS_DEFAULT_REGION: context.region } : {};
  const definitions = new Map<string, LocalDefinition>();
  for (const [key, job] of Object.entries(config.jobDefinitions)) {
    const args = containerArgs(job);
    const secrets = Object.fromEntries((job.secrets ?? []).map((s) => [s.name, context.secretValues?.[s.name]] as const));
    definitions.set(key, {
      key,
      image: job.image ?? `build:${job.build!.context}`,
      ...(job.build ? { buildContext: job.build.context } : {}),
      vcpus: job.vcpus,
      memoryMiB: job.memoryMiB,
      ...(args.command ? { command: [...args.command] } : {}),
      environment: { ...processEnvironment(job, context.bucket), ...region, ...Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== undefined)) } as Record<string, string>,
      missingSecrets: Object.entries(secrets).filter(([, v]) => v === undefined).map(([name]) => name),
      parameters: { ...args.parameters },
      timeoutSeconds: job.timeoutSeconds,
      retryStrategy: retryStrategyOf(job.retryAttempts, args.evaluateOnExit),
    });
  }
  return definitions;
}
