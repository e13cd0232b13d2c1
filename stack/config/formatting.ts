/**
 * Config errors as a user writes `pulumi config`: one line per mistake, `<namespace>:<key>.<path> =
 * <value>: <rule>`, in the project's words rather than the schema library's, every bad key at once in one
 * {@link ConfigError}. `pulumi preview` (index.ts) and `batch-pipeline validate` print the same lines.
 */
import { z } from "zod";
import { configKey, type Path, unknownKeyRule, valueAt } from "./keyPaths";

/** One mistake in a stack's config. */
export interface ConfigProblem {
  /** The key as `pulumi config set --path` takes it, e.g. `batch-pipeline:compute.spot.maxVcpus`. */
  readonly key: string;
  /** The whole line: the key, the value and the rule it breaks. */
  readonly message: string;
}

/** A stack configuration value failed validation. The message lists every bad key, one line each. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** One line per mistake (the {@link ConfigProblem.message}s). */
  readonly issues: readonly string[];
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly (ConfigProblem | string)[], options?: { cause?: unknown }) {
    const list = problems.map((p) => (typeof p === "string" ? { key: /^(\S+?)(?: = |: )/.exec(p)?.[1] ?? "", message: p } : p));
    super(`Invalid stack configuration:\n${list.map((p) => `  - ${p.message}`).join("\n")}`, options);
    this.problems = list;
    this.issues = list.map((p) => p.message);
  }
}

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** A value as the line shows it: JSON, cut short when long (a whole workflow or 46 tags would bury the rule). */
export function showValue(value: unknown): string {
  if (value === undefined) return "(unset)";
  const json = JSON.stringify(value);
  if (json.length <= 100) return json;
  const size = typeof value === "string" ? `${value.length} characters` : Array.isArray(value) ? `${value.length} entries` : `${Object.keys(value as object).length} keys`;
  return `${json.slice(0, 80)}… (${size})`;
}

// ---- zod's issues in the project's words ----

const EXPECTED: Record<string, string> = {
  string: "a string", number: "a number", int: "a whole number", boolean: "true or false", array: "a list",
  object: "a map of keys to values", record: "a map of keys to values", null: "empty",
};

function kindOf(value: unknown): string {
  if (value === null) return "an empty value (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return typeof value === "boolean" ? "a boolean" : `a ${typeof value}`;
}

/** zod's own English message for `issue` on `value`: such a message is the schema library's wording, not ours. */
let english: ReturnType<typeof z.locales.en> | undefined;
function isLibraryWording(issue: Issue, value: unknown): boolean {
  english ??= z.locales.en();
  const text = english.localeError({ ...issue, input: value } as never);
  return issue.message === (typeof text === "string" ? text : text?.message);
}

function typeRule(issue: Extract<Issue, { code: "invalid_type" }>, value: unknown): string {
  const expected = EXPECTED[issue.expected] ?? `a ${issue.expected}`;
  if (value === undefined) return `is required (${expected})`;
  if (issue.expected === "int" && typeof value === "number") return "must be a whole number";
  const unquote =
    typeof value === "string" && (((issue.expected === "number" || issue.expected === "int") && value.trim() !== "" && Number.isFinite(Number(value))) || (issue.expected === "boolean" && /^(true|false)$/.test(value)))
      ? ` (write ${value} without quotes)`
      : "";
  return `must be ${expected}, not ${kindOf(value)}${unquote}`;
}

function boundRule(issue: Extract<Issue, { code: "too_small" | "too_big" }>, value: unknown): string {
  const small = issue.code === "too_small";
  const limit = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === "string" || issue.origin === "array" || issue.origin === "set") {
    const unit = issue.origin === "string" ? "characters" : "entries";
    const length = typeof value === "string" || Array.isArray(value) ? ` (got ${value.length})` : "";
    if (small) return limit <= 1 ? "must not be empty" : `needs at least ${limit} ${unit}${length}`;
    return `takes at most ${limit} ${unit}${length}`;
  }
  if (small) return issue.inclusive ? `must be at least ${limit}` : `must be greater than ${limit}`;
  return issue.inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
}

const listed = (values: readonly unknown[]) => values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");

/** The rule an issue states, in the project's words when zod worded it, as written when the schema's author did. */
function ruleOf(issue: Issue, value: unknown): string {
  switch (issue.code) {
    case "invalid_key": // A bad record key: its own rule is in the nested issues.
      return `the key ${JSON.stringify(String(issue.path.at(-1)))} ${issue.issues.map((i) => ruleOf(i as Issue, issue.path.at(-1))).join("; ")}`;
    case "invalid_union":
      // zod words a bad discriminator itself, whatever the schema says.
      if ("options" in issue && Array.isArray(issue.options)) return `must be one of ${listed(issue.options as unknown[])}`;
      break;
  }
  if (!isLibraryWording(issue, value)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return typeRule(issue, value);
    case "too_small":
    case "too_big":
      return boundRule(issue, value);
    case "invalid_value":
      return issue.values.length === 1 ? `must be ${listed(issue.values)}` : `must be one of ${listed(issue.values)}`;
    case "invalid_format":
      if (issue.format === "email") return "must be an email address";
      if (issue.format === "regex" && "pattern" in issue) return `must match ${String(issue.pattern)}`;
      return `must be a valid ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "invalid_union": {
      const options = issue.errors.map((errors) => errors[0]).filter((i): i is Issue => i !== undefined && i.path.length === 0);
      const expected = [...new Set(options.map((i) => (i.code === "invalid_type" ? (EXPECTED[i.expected] ?? `a ${i.expected}`) : ruleOf(i, value))))];
      return expected.length > 0 ? `must be ${expected.join(" or ")}` : "matches none of the accepted forms";
    }
    default:
      return "is invalid";
  }
}

/** The strongest bound among a path's too_small (or too_big) issues: zod reports each check it fails (`min(0)`, `min(1)`). */
function strongest<I extends Extract<Issue, { code: "too_small" | "too_big" }>>(issues: I[]): I {
  const limit = (i: I) => Number(i.code === "too_small" ? i.minimum : i.maximum) * (i.code === "too_small" ? 1 : -1);
  return issues.reduce((best, i) => (limit(i) > limit(best) || (limit(i) === limit(best) && !i.inclusive) ? i : best));
}

/**
 * One rule per path: zod reports every check a value fails, several for one bad value. The schema
 * author's words win over zod's (they state the rule the checks approximate); among zod's, a wrong type
 * says it all, and bounds collapse to the strictest.
 */
function pathRule(issues: Issue[], value: unknown): string {
  const authored = issues.filter((i) => i.code === "invalid_key" || (i.code === "invalid_union" && "options" in i) || !isLibraryWording(i, value));
  if (authored.length > 0) return [...new Set(authored.map((i) => ruleOf(i, value)))].join("; ");
  const wrongType = issues.find((i) => i.code === "invalid_type");
  if (wrongType) return ruleOf(wrongType, value);
  const small = issues.filter((i): i is Extract<Issue, { code: "too_small" }> => i.code === "too_small");
  const big = issues.filter((i): i is Extract<Issue, { code: "too_big" }> => i.code === "too_big");
  const rest = issues.filter((i) => i.code !== "too_small" && i.code !== "too_big");
  const kept = [...(small.length > 0 ? [strongest(small)] : []), ...(big.length > 0 ? [strongest(big)] : []), ...rest];
  return [...new Set(kept.map((i) => ruleOf(i, value)))].join("; ");
}

/** Options of {@link describeIssues}. */
export interface DescribeOptions {
  /** The schema `raw` was checked against: names the keys an unknown one may have meant, and tells a dotted key from a typo. */
  schema?: Schema;
}

/**
 * zod issues as {@link ConfigProblem}s: one per bad key (issues zod reports several times for one path
 * are one problem), each `<namespace>:<key> = <value>: <rule>`. Workflow problems name the step and field
 * themselves, so the spec is not echoed; a top-level key spelled like a nested path (`compute.spot.maxVcpus`,
 * set without `--path`) is told how to set it.
 */
export function describeIssues(error: z.ZodError, raw: unknown, namespace: string, options: DescribeOptions = {}): ConfigProblem[] {
  const byPath = new Map<string, { path: Path; issues: Issue[]; unknownKey?: string }>();
  const add = (path: Path, issue: Issue, unknownKey?: string) => {
    const id = JSON.stringify(path);
    const entry = byPath.get(id) ?? { path, issues: [] };
    entry.issues.push(issue);
    if (unknownKey !== undefined) entry.unknownKey = unknownKey;
    byPath.set(id, entry);
  };
  for (const issue of error.issues as Issue[]) {
    // Name each unknown key itself (usually a typo), not the object around it.
    if (issue.code === "unrecognized_keys") issue.keys.forEach((k) => add([...issue.path, k], issue, k));
    else add(issue.path, issue);
  }
  return [...byPath.values()].map(({ path, issues, unknownKey }) => {
    const key = configKey(namespace, path);
    const value = valueAt(raw, path);
    if (unknownKey !== undefined) {
      const rule = unknownKeyRule(options.schema, path.slice(0, -1), unknownKey, raw, namespace);
      return { key, message: rule.startsWith("this sets") ? `${key}: ${rule}` : `${key} = ${showValue(value)}: ${rule}` };
    }
    const rule = pathRule(issues, value);
    // The workflow's own messages start with `workflow` or the step; the key says that already.
    if (path[0] === "workflow") return { key, message: `${key}: ${rule.replace(/^workflow: /, "")}` };
    return { key, message: `${key} = ${showValue(value)}: ${rule}` };
  });
}

/** {@link describeIssues}, as the lines alone. */
export function formatIssues(error: z.ZodError, raw: unknown, namespace: string, options: DescribeOptions = {}): string[] {
  return describeIssues(error, raw, namespace, options).map((p) => p.message);
}
