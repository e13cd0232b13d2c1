/**
 * The trigger's settings: its Lambda environment (`TRIGGER_ENV`, contract/env.ts), validated at cold start.
 *
 * Serialized BY VALUE into the inline Pulumi Lambda (built by infra/triggerHandler.ts): no value imports of npm
 * packages or Node builtins here, only `import type`.
 */
// Submodules, not the contract's index: Pulumi serializes what a module import captures, so the
// Lambda carries only the parts of the contract it uses.
import { decodeJobDefinitions, decodeTags } from "../contract/codec";
import { ORCHESTRATOR_MODES, type OrchestratorMode } from "../contract/orchestration";
import { TRIGGER_ENV } from "../contract/env";
import { isTagValue, MAX_EXTRA_TAGS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS, TAG_KEYS, tagProblems } from "../contract/tags";
import { keepErrorFields } from "../contract/errors";
import type { StartJobTarget } from "./startRequest";
import type { TriggerKeyFilter } from "../contract/trigger";
import type { InlineTarget } from "./inline";

/** @default 7 days, the stack config's `trigger.idempotencyDays` default. */
export const DEFAULT_IDEMPOTENCY_SECONDS = 7 * 24 * 3600;

/** Validated settings of the trigger. */
export interface TriggerSettings {
  target: StartJobTarget;
  /** The input bucket: a record of another bucket starts no run. */
  bucket: string;
  /** Which keys start a run: under `trigger.prefix`, ending with `trigger.suffix`, never under `trigger.outputPrefix` ("": none). */
  filter: TriggerKeyFilter;
  idempotency: {
    tableName: string;
    /** @default {@link DEFAULT_IDEMPOTENCY_SECONDS} */
    expiresAfterSeconds: number;
  };
  /** With `orchestrator.mode` inline or auto: how the trigger submits DAGs itself. @default undefined (start jobs only) */
  inline?: { mode: Exclude<OrchestratorMode, "container">; target: InlineTarget };
}

/** The Lambda's environment is incomplete or wrong: a deployment bug, reported at cold start. */
export class TriggerConfigError extends Error {
  constructor(problems: string[]) {
    const message = `Invalid S3 trigger environment: ${problems.join("; ")}`;
    super(message);
    keepErrorFields(this, "TriggerConfigError", message);
  }
}

/** Reads and validates `TRIGGER_ENV` (contract/env.ts); reports every problem at once, naming the variable. */
export function parseTriggerSettings(env: Readonly<Record<string, string | undefined>>): TriggerSettings {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`\`${name}\` is required`);
    return value ?? "";
  };
  const startQueue = required(TRIGGER_ENV.startQueue);
  const startJobDefinition = required(TRIGGER_ENV.startJobDefinition);
  const tableName = required(TRIGGER_ENV.idempotencyTable);
  const stack = required(TRIGGER_ENV.stack);
  const bucket = required(TRIGGER_ENV.bucket);
  // Sent unchanged (a sanitized value would no longer match the IAM condition).
  if (stack && !isTagValue(stack)) {
    problems.push(
      `\`${TRIGGER_ENV.stack}\` must be a tag value for \`${TAG_KEYS.stack}\` (at most ${MAX_TAG_VALUE_CHARS} letters, digits, spaces or _ . : / = + - @), got ${JSON.stringify(stack)}`,
    );
  }

  let expiresAfterSeconds = DEFAULT_IDEMPOTENCY_SECONDS;
  const rawSeconds = env[TRIGGER_ENV.idempotencySeconds]?.trim();
  if (rawSeconds) {
    expiresAfterSeconds = Number(rawSeconds);
    if (!/^[0-9]+$/.test(rawSeconds) || expiresAfterSeconds < 1) {
      problems.push(`\`${TRIGGER_ENV.idempotencySeconds}\` must be a positive whole number of seconds, got ${JSON.stringify(rawSeconds)}`);
    }
  }

  let tags: Record<string, string> = {};
  const rawTags = env[TRIGGER_ENV.jobTags]?.trim();
  if (rawTags) {
    const problem = `\`${TRIGGER_ENV.jobTags}\` must be a JSON object of at most ${MAX_EXTRA_TAGS} string tags (keys of 1 to ${MAX_TAG_KEY_CHARS} characters, not starting with \`aws:\` or \`pipeline:\`)`;
    const decoded = decodeTags(rawTags);
    if (!decoded.ok) problems.push(decoded.error === "json" ? `${problem}, got invalid JSON` : `${problem}, got ${rawTags}`);
    else {
      const broken = tagProblems(decoded.value);
      if (broken.length > 0) problems.push(`${problem}, got ${rawTags}: ${broken.join("; ")}`);
      else tags = decoded.value;
    }
  }

  let inline: TriggerSettings["inline"];
  const mode = (env[TRIGGER_ENV.orchestratorMode]?.trim() || "container") as OrchestratorMode;
  if (!ORCHESTRATOR_MODES.includes(mode)) {
    problems.push(`\`${TRIGGER_ENV.orchestratorMode}\` must be one of ${ORCHESTRATOR_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
  } else if (mode !== "container") {
    const jobQueue = required(TRIGGER_ENV.processQueue);
    const rawDefinitions = required(TRIGGER_ENV.jobDefinitions);
    const definitions = rawDefinitions ? decodeJobDefinitions(rawDefinitions) : undefined;
    if (definitions && !definitions.ok) {
      problems.push(`\`${TRIGGER_ENV.jobDefinitions}\` ${definitions.error === "json" ? "is not valid JSON" : definitions.message}, got ${rawDefinitions}`);
    }
    const outputRoot = env[TRIGGER_ENV.outputRoot];
    inline = {
      mode,
      target: { jobQueue, jobDefinitions: definitions?.ok ? definitions.value : {}, stack, tags, ...(outputRoot !== undefined ? { outputRoot } : {}) },
    };
  }

  if (problems.length > 0) throw new TriggerConfigError(problems);
  const shareIdentifier = env[TRIGGER_ENV.shareIdentifier]?.trim();
  return {
    target: { jobQueue: startQueue, jobDefinition: startJobDefinition, stack, tags, ...(shareIdentifier ? { shareIdentifier } : {}) },
    bucket,
    filter: { prefix: env[TRIGGER_ENV.keyPrefix] ?? "", suffix: env[TRIGGER_ENV.keySuffix] ?? "", outputPrefix: env[TRIGGER_ENV.ignorePrefix] ?? "" },
    idempotency: { tableName, expiresAfterSeconds },
    ...(inline ? { inline } : {}),
  };
}
