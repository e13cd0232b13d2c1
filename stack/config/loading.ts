/**
 * From what Pulumi hands the program to a validated {@link PipelineConfig}: the project's keys
 * ({@link rawConfigFromPulumi}), what of other providers' config the rules need
 * ({@link providerConfigFromPulumi}), and {@link parsePipelineConfig}, which runs the schema and the tag
 * budget and throws one {@link ConfigError} naming every bad key; {@link loadPipelineConfig} chains the
 * three, and is what both `index.ts` (under `pulumi preview`) and `batch-pipeline validate` run.
 */
import { buildFolderProblem } from "../buildFolder";
import { ConfigError, type ConfigProblem, describeIssues, showValue } from "./formatting";
import { AWS_DEFAULT_TAGS_KEY, tagBudgetProblem } from "./rules";
import { awsDefaultTagsSchema, type PipelineConfig, pipelineConfigObject, pipelineConfigSchema, tagsSchema } from "./schema";

/**
 * What of the providers' stack config the validation needs: the AWS provider adds `aws:defaultTags` to
 * every resource it creates, job definitions included, but not to jobs, which are submitted by the SDK.
 */
export interface ProviderConfig {
  /** The JSON-decoded value of `aws:defaultTags`. @default none */
  awsDefaultTags?: unknown;
}

/** Reads {@link ProviderConfig} from the flat config map Pulumi hands the program (`ns:key` → JSON text). */
export function providerConfigFromPulumi(all: Record<string, string>): ProviderConfig {
  const text = all[AWS_DEFAULT_TAGS_KEY];
  if (text === undefined) return {};
  try {
    return { awsDefaultTags: JSON.parse(text) };
  } catch {
    return { awsDefaultTags: text };
  }
}

/**
 * Validates a raw configuration object (as read from `Pulumi.<stack>.yaml`) and fills in defaults.
 * `provider` carries what of other namespaces the rules need ({@link providerConfigFromPulumi}): the AWS
 * provider's default tags count against the tag budget of every job ({@link tagBudgetProblem}).
 *
 * Every key's shape is checked first, and the rules between keys only once every shape holds: a rule
 * reading a bad value would report it again under another key (`compute.spot.maxVcpus: -1` would also
 * make `minVcpus = 0 > maxVcpus = -1`). zod already skips them after a wrong type; this skips them after
 * a value out of range too.
 * @throws ConfigError naming every bad key, its value and the rule.
 */
export function parsePipelineConfig(raw: Record<string, unknown>, namespace = "batch-pipeline", provider: ProviderConfig = {}): PipelineConfig {
  const shapes = pipelineConfigObject.safeParse(raw);
  const result = shapes.success ? pipelineConfigSchema.safeParse(raw) : shapes;
  const problems: ConfigProblem[] = result.success ? [] : describeIssues(result.error, raw, namespace, { schema: pipelineConfigObject });
  // The tag budget depends on another provider's config, so it is checked here rather than in the
  // schema; only when both sets of tags are themselves valid (their own issues are reported otherwise).
  const defaults = awsDefaultTagsSchema.safeParse(provider.awsDefaultTags ?? {});
  if (!defaults.success) {
    problems.push({
      key: AWS_DEFAULT_TAGS_KEY,
      message: `${AWS_DEFAULT_TAGS_KEY} = ${showValue(provider.awsDefaultTags)}: must be {"tags": {<key>: <value>, ...}}, the AWS provider's default tags`,
    });
  }
  const tags = result.success ? { success: true as const, data: result.data.tags } : tagsSchema.safeParse(raw.tags);
  const budget = tags.success && defaults.success ? tagBudgetProblem(tags.data, defaults.data.tags) : undefined;
  if (budget) problems.push({ key: `${namespace}:tags`, message: `${namespace}:tags = ${showValue(raw.tags ?? {})}: ${budget}` });
  if (!result.success || problems.length > 0) {
    throw new ConfigError(problems, { cause: result.success ? undefined : result.error });
  }
  return result.data;
}

/**
 * Collects this project's keys from the flat config map Pulumi hands the program (`ns:key` → JSON or
 * plain string), so that an unknown key (a typo) is reported instead of silently ignored.
 */
export function rawConfigFromPulumi(all: Record<string, string>, namespace: string): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${namespace}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    try {
      raw[key] = JSON.parse(text);
    } catch {
      // Plain strings are stored unquoted.
      raw[key] = text;
    }
  }
  return raw;
}

/**
 * The stack config as `pulumi preview` validates it: from the flat map Pulumi hands the program (every
 * namespace, `ns:key` → JSON text or plain string) to a {@link PipelineConfig}. `index.ts` calls it with
 * `pulumi.runtime.allConfig()`; `batch-pipeline validate` with the same map read from `Pulumi.<stack>.yaml`.
 * @throws ConfigError naming every bad key, its value and the rule.
 */
export function loadPipelineConfig(all: Record<string, string>, namespace: string, options: { projectDir?: string } = {}): PipelineConfig {
  const config = parsePipelineConfig(rawConfigFromPulumi(all, namespace), namespace, providerConfigFromPulumi(all));
  if (options.projectDir !== undefined) {
    // The one rule that reads the disk: a `build` folder and its Dockerfile exist inside the project.
    const problems = Object.entries(config.jobDefinitions).flatMap(([key, job]) => {
      const problem = job.build && buildFolderProblem(options.projectDir!, job.build);
      return problem ? [{ key: `${namespace}:jobDefinitions.${key}.build`, message: `${namespace}:jobDefinitions.${key}.build = ${showValue(job.build)}: ${problem}` }] : [];
    });
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return config;
}
