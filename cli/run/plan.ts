/**
 * Planning a local run exactly as AWS would plan it for the same file: the object key the trigger would
 * see (`<trigger.prefix><file name>`), its real size, the trigger's run id (contract/run.ts)
 * and the orchestrator's own plan (cli/stack/target.ts → workflow/planner.ts), with the stack's names.
 *
 * A local file has no S3 version id, and the run id depends on one: the version is derived from the
 * file's content instead, `local-` and the first 32 hex characters of its SHA-256, so the same bytes
 * give the same run id (and job names) on every machine and a changed file a new one, like a new upload.
 */
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import { S3_MAX_KEY_BYTES } from "../../contract";
import { computeRunId } from "../../contract/run";
import type { Plan } from "../../workflow/planner";
import { jobDefinitionNames, plannedRun, type Target } from "../stack/target";
import { CliError } from "../app/errors";
import { localDefinitions, type LocalDefinition } from "./definitions";

/** `local-` and 32 hex characters of the content's SHA-256: the stand-in for an S3 version id. */
export const localVersionId = (sha256Hex: string) => `local-${sha256Hex.slice(0, 32)}`;

/** The file a run is for, as the object it stands in for. */
export interface LocalInput {
  /** Absolute path. */
  file: string;
  bucket: string;
  key: string;
  versionId: string;
  sizeBytes: number;
}

/** A planned local run. */
export interface LocalPlan {
  input: LocalInput;
  runId: string;
  plan: Plan;
  /** Each definition by the name the plan's requests use. */
  definitionsByName: Map<string, LocalDefinition>;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * `file` as the object a run would be for.
 * @throws CliError (usage) when it is not a readable regular file, or its key is too long for S3.
 */
export async function localInput(file: string, target: Pick<Target, "config" | "bucket">): Promise<LocalInput> {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new CliError(`${file} is not a file: \`run\` takes the file a run is for, as it would be uploaded`);
    size = stat.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; pass an existing file`);
  }
  const key = `${target.config.trigger.prefix}${basename(file)}`;
  const keyBytes = Buffer.byteLength(key);
  if (keyBytes > S3_MAX_KEY_BYTES) throw new CliError(`the object key ${key.slice(0, 40)}… would be ${keyBytes} bytes: S3 keys are at most ${S3_MAX_KEY_BYTES} bytes; rename the file`);
  return { file, bucket: target.bucket, key, versionId: localVersionId(await sha256Of(file)), sizeBytes: size };
}

/** The run id and plan for `input`, and the stack's job definitions by the names the plan uses. */
export async function localPlan(target: Target, input: LocalInput, processQueue: string | undefined, secretValues?: Readonly<Record<string, string | undefined>>): Promise<LocalPlan> {
  const object = { bucket: input.bucket, key: input.key, versionId: input.versionId, sizeBytes: input.sizeBytes };
  const runId = await computeRunId(object);
  const plan = plannedRun(target, object, runId, processQueue);
  const byKey = localDefinitions(target.config, { bucket: target.bucket, ...(target.region ? { region: target.region } : {}), ...(secretValues ? { secretValues } : {}) });
  const definitionsByName = new Map<string, LocalDefinition>();
  for (const [key, name] of Object.entries(jobDefinitionNames(target))) {
    const definition = byKey.get(key);
    if (definition) definitionsByName.set(name, definition);
  }
  return { input, runId, plan, definitionsByName };
}
