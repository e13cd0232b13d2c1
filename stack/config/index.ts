/**
 * Stack configuration, validated before any resource is declared so that a bad value fails
 * `pulumi preview` (and the pull request) with a message naming the key, the value and the rule:
 *
 * - `schema.ts`, `platformSchema.ts`: every key's zod shape and default, and the composed
 *   {@link pipelineConfigSchema};
 * - `rules.ts`, `workflowRules.ts`: the rules between keys, each a named pure function;
 * - `formatting.ts`: zod issues as `batch-pipeline:key = value: rule`, in one {@link ConfigError};
 * - `loading.ts`: from Pulumi's config map to a {@link PipelineConfig} ({@link parsePipelineConfig}).
 */
export {
  CONFIG_KEYS,
  type ConfigDraft,
  LOG_RETENTION_DAYS,
  MAX_TAGS_JSON_BYTES,
  type NetworkConfig,
  type PipelineConfig,
  pipelineConfigObject,
  pipelineConfigSchema,
} from "./schema";
export { DEFAULT_PROCESS_JOB, JOB_DEFINITION_KEY, ON_DEMAND_ALLOCATION_STRATEGIES, type ProcessJobConfig, SPOT_ALLOCATION_STRATEGIES } from "./platformSchema";
export { type JobPolicyStatement, jobPolicyStatementSchema, pinnedImage } from "./jobDefinitionSchema";
export {
  AWS_DEFAULT_TAGS_KEY,
  CONFIG_RULES,
  type ConfigIssue,
  type ConfigRule,
  configIssues,
  distinctPrioritiesRule,
  EC2_ENVIRONMENT_RULES,
  EC2_ENVIRONMENTS,
  type Ec2Environment,
  type Ec2EnvironmentRule,
  environmentArchitectureRule,
  FARGATE_QUEUE,
  highAboveLowRule,
  IAM_LITERAL_PREFIX_CHARACTERS,
  isArm64InstanceType,
  jobSizesRule,
  minVcpusRule,
  queueCountRule,
  queueNames,
  queueReferencesRule,
  requiredQueuesRule,
  reservedJobDefinitionKeysRule,
  reservedQueueNameRule,
  S3_SAFE_KEY_CHARACTERS,
  sharedArchitectureRule,
  startJobArchitectureRule,
  tagBudgetProblem,
  TRIGGER_RULES,
  triggerFilterCharactersRule,
  triggerPrefixCharactersRule,
  triggerIssues,
  type TriggerDeliveryKeys,
  type TriggerKeys,
  triggerPrefixesRule,
  triggerQueueConcurrencyRule,
  unsafeKeyFilterCharacters,
} from "./rules";
export {
  inlinePlanRule,
  inlineWaitRule,
  minimumWaitTimeoutSeconds,
  startJobTimeoutSeconds,
  SUBMIT_ONLY_TIMEOUT_SECONDS,
  WAIT_TIMEOUT_SECONDS,
  waitTimeoutProblem,
  waitTimeoutRule,
  workflowOf,
  workflowOverridesRule,
  workflowSpecRule,
  worstCasePlanProblem,
} from "./workflowRules";
export { ConfigError, formatIssues } from "./formatting";
export { loadPipelineConfig, type ProviderConfig, parsePipelineConfig, providerConfigFromPulumi, rawConfigFromPulumi } from "./loading";
