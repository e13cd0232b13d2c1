/**
 * Config errors as a user writes `pulumi config`: `<namespace>:<key>.<path> = <value>: <rule>`, every
 * bad key at once in one {@link ConfigError}.
 */
import type { z } from "zod";

/** A stack configuration value failed validation. The message lists every bad key. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid stack configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`, options);
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Formats zod issues as `<namespace>:<key>.<path> = <value>: <rule>`, the way a user writes `pulumi config`. */
export function formatIssues(error: z.ZodError, raw: unknown, namespace: string): string[] {
  const describe = (path: readonly PropertyKey[], message: string) => {
    const [top, ...rest] = path;
    const key = `${namespace}:${String(top ?? "")}${rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
    // Workflow messages name the step and field themselves; echoing the whole spec would bury them.
    if (top === "workflow") return `${key}: ${message}`;
    const value = valueAt(raw, path);
    const shown = value === undefined ? "(unset)" : JSON.stringify(value);
    return `${key} = ${shown}: ${message}`;
  };
  return error.issues.flatMap((issue) => {
    // Name each unknown key itself (usually a typo), not the object around it.
    if (issue.code === "unrecognized_keys") return issue.keys.map((k) => describe([...issue.path, k], "unknown key; check the spelling against the config reference"));
    // A bad record key: zod says only "Invalid key in record"; the key's own rule is in the nested issues.
    if (issue.code === "invalid_key") return [describe(issue.path, `the key ${JSON.stringify(String(issue.path.at(-1)))} ${issue.issues.map((i) => i.message).join("; ")}`)];
    return [describe(issue.path, issue.message)];
  });
}
