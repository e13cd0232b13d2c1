/**
 * One stack file checked exactly as `pulumi preview` checks it, with no Pulumi CLI: the file read into the
 * map Pulumi hands the program (stack/project.ts), then `loadPipelineConfig`, what index.ts calls. `validate`
 * reports the result; `plan` refuses to plan a stack that does not validate, with the same lines.
 */
import { relative } from "node:path";
import { AWS_DEFAULT_TAGS_KEY, ConfigError, loadPipelineConfig, type PipelineConfig } from "../../stack/config";
import type { ConfigProblem } from "../../stack/config/formatting";
import type { Colors } from "../app/context";
import { type Project, readStackConfig, StackFileError, stackFile } from "../../stack/project";

/** What checking one stack found. */
export interface StackCheck {
  stack: string;
  /** Absolute path of `Pulumi.<stack>.yaml`. */
  file: string;
  valid: boolean;
  /** One per mistake: the key and the whole line (key, value, rule). */
  problems: ConfigProblem[];
  /**
   * Keys the validation reads whose value is a secret (`secure:`), which only Pulumi can decrypt: the
   * rest was checked as if they were unset.
   */
  unchecked: string[];
  /** The validated config, when valid. */
  config?: PipelineConfig;
}

/**
 * Checks `Pulumi.<stack>.yaml` of `project`. A stack file that is not YAML, or whose `config:` is not a
 * map, is a problem of that stack (keyed by the file), not an error of the command.
 * @throws StackFileError (the CLI's usage error, exit 2) when the stack has no file, naming the stacks there are.
 */
export function checkStack(project: Project, stack: string): StackCheck {
  const file = stackFile(project, stack);
  let all: Record<string, string>;
  let secretKeys: string[];
  try {
    ({ all, secretKeys } = readStackConfig(project, stack));
  } catch (error) {
    if (!(error instanceof StackFileError)) throw error;
    return { stack, file, valid: false, problems: [{ key: file, message: error.message }], unchecked: [] };
  }
  // Secrets of other namespaces (provider credentials) are none of the validation's business.
  const unchecked = secretKeys.filter((k) => k.startsWith(`${project.name}:`) || k === AWS_DEFAULT_TAGS_KEY);
  try {
    const config = loadPipelineConfig(all, project.name, { projectDir: project.dir });
    return { stack, file, valid: true, problems: [], unchecked, config };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { stack, file, valid: false, problems: [...error.problems], unchecked };
  }
}

/** The warning for keys that could not be checked (secrets). */
export function uncheckedNote(check: Pick<StackCheck, "unchecked">): string | undefined {
  const n = check.unchecked.length;
  if (n === 0) return undefined;
  return `not checked: ${check.unchecked.join(", ")} ${n === 1 ? "is a secret" : "are secrets"} (secure:) that only Pulumi can decrypt; the rest was checked as if ${n === 1 ? "it were" : "they were"} unset`;
}

/**
 * A check as text: `✓ dev  Pulumi.dev.yaml`, or `✗ dev  Pulumi.dev.yaml: 2 problems` and one indented
 * line per problem, then the secrets not checked. The file is shown relative to the working directory.
 */
export function renderCheck(check: StackCheck, cwd: string, c: Colors, stackWidth = check.stack.length): string {
  const file = relative(cwd, check.file) || check.file;
  const name = check.stack.padEnd(stackWidth);
  const n = check.problems.length;
  const lines = check.valid
    ? [`${c.green("✓")} ${c.bold(name)}  ${file}`]
    : [`${c.red("✗")} ${c.bold(name)}  ${file}: ${n} problem${n === 1 ? "" : "s"}`, ...check.problems.map((p) => `    ${p.message}`)];
  const note = uncheckedNote(check);
  if (note) lines.push(`  ${c.yellow("!")} ${note}`);
  return lines.map((l) => `${l}\n`).join("");
}

/** The `--json` form of a check: `{stack, file, valid, problems: [{key, message}], unchecked}`. */
export function checkJson(check: StackCheck) {
  return { stack: check.stack, file: check.file, valid: check.valid, problems: check.problems.map(({ key, message }) => ({ key, message })), unchecked: check.unchecked };
}
