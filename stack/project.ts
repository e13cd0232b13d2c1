/**
 * A stack's config as `pulumi preview` sees it, read from the project's files with no Pulumi CLI: the
 * project directory (the nearest `Pulumi.yaml` at or above the working directory), its stacks
 * (`Pulumi.<stack>.yaml`), and a stack's config as the flat `ns:key` → text map Pulumi hands the program,
 * which `loadPipelineConfig` (stack/config, the code `index.ts` runs) then validates. The CLI and the
 * deploy roles' generator (deploy/render.ts) list the project's stacks with it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseDocument } from "yaml";

/**
 * The project's files cannot be read as Pulumi would read them (no `Pulumi.yaml`, no such stack, not YAML):
 * a one-line message that says what to fix. `batch-pipeline` prints it as its usage error (exit 2).
 */
export class StackFileError extends Error {
  override readonly name = "StackFileError";
}

/** The Pulumi project around a directory. */
export interface Project {
  /** Directory holding `Pulumi.yaml`. */
  dir: string;
  /** `name` in `Pulumi.yaml`: the config namespace of the project's own keys. */
  name: string;
}

/** Finds the nearest `Pulumi.yaml` at or above `cwd`. */
export function findProject(cwd: string): Project {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, "Pulumi.yaml");
    if (existsSync(file)) {
      const doc = parseYaml(file);
      const name = (doc as { name?: unknown } | null)?.name;
      if (typeof name !== "string" || name === "") throw new StackFileError(`${file} has no project name (\`name:\`)`);
      return { dir, name };
    }
    if (dirname(dir) === dir) throw new StackFileError(`no Pulumi.yaml in ${resolve(cwd)} or any directory above it: run batch-pipeline inside the project`);
  }
}

/** The stacks that have a config file in the project, sorted. */
export function stackNames(project: Project): string[] {
  return readdirSync(project.dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Path of a stack's config file; throws naming the stacks there are when it does not exist. */
export function stackFile(project: Project, stack: string): string {
  for (const ext of ["yaml", "yml"]) {
    const file = join(project.dir, `Pulumi.${stack}.${ext}`);
    if (existsSync(file)) return file;
  }
  const known = stackNames(project);
  throw new StackFileError(`no stack \`${stack}\`: ${join(project.dir, `Pulumi.${stack}.yaml`)} does not exist (stacks here: ${known.join(", ") || "none"})`);
}

/** A stack's config, as the program receives it. */
export interface StackConfig {
  stack: string;
  file: string;
  /** `ns:key` → the value as Pulumi hands it to the program: plain strings as they are, everything else as JSON. */
  all: Record<string, string>;
  /** `aws:region`, when set. */
  region?: string;
  /** Keys whose value is a secret (`secure:`), which no tool but Pulumi can decrypt. */
  secretKeys: string[];
}

function parseYaml(file: string): unknown {
  const doc = parseDocument(readFileSync(file, "utf8"), { prettyErrors: true });
  if (doc.errors.length > 0) throw new StackFileError(`${file} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  return doc.toJS();
}

/**
 * Reads `Pulumi.<stack>.yaml` into the map `pulumi.runtime.allConfig()` returns for it: each top-level
 * key of `config:` with a string value as is and any other value as JSON (Pulumi serializes structured
 * config that way). Secrets (`{secure: …}`) are left out and listed in {@link StackConfig.secretKeys}.
 */
export function readStackConfig(project: Project, stack: string): StackConfig {
  const file = stackFile(project, stack);
  const doc = parseYaml(file) as { config?: unknown } | null;
  const config = doc?.config ?? {};
  if (config === null || typeof config !== "object" || Array.isArray(config)) throw new StackFileError(`${file}: \`config:\` must be a map of keys to values`);
  const all: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    if (isSecret(value)) {
      secretKeys.push(key);
      continue;
    }
    all[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const region = all["aws:region"];
  return { stack, file, all, secretKeys, ...(region ? { region } : {}) };
}

function isSecret(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}
