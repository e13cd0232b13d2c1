/**
 * Job tags: the keys the pipeline puts on every job, Batch's and AWS's tag rules, and the one check of a
 * stack's extra tags ({@link tagProblems}) that the trigger, the start job, the planner and the stack
 * config all apply. Pure code: no imports (see contract/index.ts).
 */

/**
 * Tag keys the pipeline puts on every job it submits (cost allocation and tracing). `stack` is also
 * what IAM keys on: the orchestrator may terminate only jobs tagged with its own stack
 * (`aws:ResourceTag/pipeline:stack`), and submitters may send only these keys and the stack's own tags
 * (`aws:TagKeys`).
 */
export const TAG_KEYS = {
  runId: "pipeline:run-id",
  bucket: "pipeline:input-bucket",
  key: "pipeline:input-key",
  step: "pipeline:step",
  stack: "pipeline:stack",
} as const;

/** Value of the {@link TAG_KEYS.step} tag on start jobs. */
export const START_STEP_TAG = "start";

/** Batch: a job's tags, with those of its job definition when `propagateTags` is on, are at most 50. */
export const MAX_TAGS_PER_JOB = 50;
/** How many of those the pipeline itself uses on every job ({@link TAG_KEYS}). */
export const PIPELINE_TAG_COUNT = Object.keys(TAG_KEYS).length;
/**
 * Extra tags a job can carry: Batch allows {@link MAX_TAGS_PER_JOB} per job and the pipeline uses
 * {@link PIPELINE_TAG_COUNT} of them ({@link TAG_KEYS}). The stack config has a tighter budget, since
 * with `propagateTags` the job definition's tags count too (`tagBudgetProblem` in stack/config).
 */
export const MAX_EXTRA_TAGS = MAX_TAGS_PER_JOB - PIPELINE_TAG_COUNT;

/** AWS tag keys: at most 128 characters. */
export const MAX_TAG_KEY_CHARS = 128;
/** AWS tag values: at most 256 characters. */
export const MAX_TAG_VALUE_CHARS = 256;

/** The characters AWS allows in tag keys and values, as the body of a regular expression character class. */
const TAG_CHARACTERS = "\\p{L}\\p{N}\\p{Z}_.:/=+\\-@";

/** Whether `text` has only characters AWS allows in tag keys and values (letters, digits, whitespace, `_ . : / = + - @`). */
export function isTagText(text: string): boolean {
  return !new RegExp(`[^${TAG_CHARACTERS}]`, "u").test(text);
}

/**
 * Whether `value` is an AWS tag value exactly as given (what {@link sanitizeTagValue} leaves as it is): the
 * stack's id is one, sent unchanged because IAM compares it with `aws:ResourceTag/pipeline:stack`.
 */
export function isTagValue(value: string): boolean {
  return Array.from(value).length <= MAX_TAG_VALUE_CHARS && isTagText(value);
}

/**
 * AWS tag values allow letters, digits, whitespace and `_ . : / = + - @`, up to 256 characters. S3 keys
 * allow anything, so other characters become `_` and long values are cut (by code point, so a surrogate
 * pair is never split). The tag is for finding and costing runs; the exact key is in the job's environment.
 * Shared by the S3 trigger and the planner, so a run's jobs and its start job carry the same tags.
 */
export function sanitizeTagValue(value: string): string {
  const cleaned = value.replace(new RegExp(`[^${TAG_CHARACTERS}]`, "gu"), "_");
  const chars = Array.from(cleaned);
  return chars.length <= MAX_TAG_VALUE_CHARS ? cleaned : chars.slice(0, MAX_TAG_VALUE_CHARS).join("");
}

/**
 * Every tag key a job of the pipeline can carry: the stack's own tags and {@link TAG_KEYS}. The
 * submitters' IAM grants allow exactly these (`aws:TagKeys`), so a key outside this list is denied.
 */
export function jobTagKeys(stackTags: Readonly<Record<string, string>>): string[] {
  return [...new Set([...Object.keys(stackTags), ...Object.values(TAG_KEYS)])].sort();
}

/** Which of the tag rules {@link tagProblems} applies. */
export interface TagRuleOptions {
  /**
   * `refuse`: the tags are a stack's extra tags, and keys starting with `pipeline:` are the pipeline's own.
   * `allow`: such keys are accepted (the pipeline's own {@link TAG_KEYS} then replace the caller's).
   * @default "refuse"
   */
  pipelineKeys?: "refuse" | "allow";
  /**
   * Also check the characters of keys and values and the length of values, for tags sent exactly as
   * given. Readers that send values through {@link sanitizeTagValue} leave it off.
   * @default false
   */
  strict?: boolean;
  /**
   * Also check that the tags fit a job next to the pipeline's own ({@link MAX_TAGS_PER_JOB}). The stack
   * config leaves it off: its own budget also counts the provider's default tags.
   * @default true
   */
  count?: boolean;
}

/**
 * Every rule a set of extra job tags breaks, one sentence each (empty when the tags are fine): keys of 1
 * to {@link MAX_TAG_KEY_CHARS} characters, none starting with `aws:` (any case) nor, unless allowed,
 * `pipeline:`; with `strict`, only the characters AWS allows and values of at most
 * {@link MAX_TAG_VALUE_CHARS} characters; and with the pipeline's own {@link TAG_KEYS}, at most
 * {@link MAX_TAGS_PER_JOB} distinct keys (so at most {@link MAX_EXTRA_TAGS} extra tags). Each reader
 * turns the list into its own error.
 */
export function tagProblems(tags: Readonly<Record<string, string>>, options: TagRuleOptions = {}): string[] {
  const problems: string[] = [];
  const refusePipelineKeys = (options.pipelineKeys ?? "refuse") === "refuse";
  for (const [key, value] of Object.entries(tags)) {
    if (key.length === 0 || key.length > MAX_TAG_KEY_CHARS || key.toLowerCase().startsWith("aws:")) {
      problems.push(`tag key \`${key}\` must have 1 to ${MAX_TAG_KEY_CHARS} characters and not start with \`aws:\``);
    }
    if (refusePipelineKeys && key.toLowerCase().startsWith("pipeline:")) {
      problems.push(`tag key \`${key}\` must not start with \`pipeline:\`: keys starting with \`pipeline:\` are the pipeline's own`);
    }
    if (options.strict && !isTagText(key)) {
      problems.push(`tag key \`${key}\` must be letters, digits, spaces or _ . : / = + - @`);
    }
    if (options.strict && (Array.from(value).length > MAX_TAG_VALUE_CHARS || !isTagText(value))) {
      problems.push(`tag \`${key}\`: the value must be at most ${MAX_TAG_VALUE_CHARS} letters, digits, spaces or _ . : / = + - @`);
    }
  }
  const count = jobTagKeys(tags).length;
  if ((options.count ?? true) && count > MAX_TAGS_PER_JOB) {
    problems.push(`jobs can carry at most ${MAX_TAGS_PER_JOB} tags, including the pipeline's ${PIPELINE_TAG_COUNT}; ${count} given`);
  }
  return problems;
}
