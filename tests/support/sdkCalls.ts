/**
 * The AWS SDK v3 commands a body of code sends, read from its source: `new XCommand(` of a name
 * imported from `@aws-sdk/client-<service>`, `new deps.commands.XCommand(` of a command class injected
 * instead (batch/calls.ts `BatchCommands`), compiled `client_<service>_1.XCommand` (a package's
 * CommonJS build), and the aggregated Batch client's methods (`batch.submitJob(`). Each becomes the
 * IAM action it needs (`batch:SubmitJob`). Used to check that every call is in an IAM call table.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { BATCH_COMMANDS } from "../../batch/clients";

/** SDK client package → IAM service prefix, where they differ. */
const SERVICE_OF_PACKAGE: Record<string, string> = { "cloudwatch-logs": "logs" };

/**
 * Commands whose IAM action has another name (Service Authorization Reference): Lambda's `Invoke` API is
 * authorized as `lambda:InvokeFunction`; S3's multipart upload calls (CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload) as `s3:PutObject`.
 */
const ACTION_OF_COMMAND: Record<string, string> = {
  "lambda:Invoke": "lambda:InvokeFunction",
  "s3:CreateMultipartUpload": "s3:PutObject",
  "s3:UploadPart": "s3:PutObject",
  "s3:CompleteMultipartUpload": "s3:PutObject",
};
const actionOf = (call: string) => ACTION_OF_COMMAND[call] ?? call;

/**
 * Command classes code is given rather than imports (`deps.commands`, batch/calls.ts `BatchCommands`), by
 * service: a file that sends one need not name its package. A name neither imported nor here stays
 * `unknown:`, which no call table lists.
 */
const INJECTED_COMMANDS: ReadonlyMap<string, string> = new Map(Object.keys(BATCH_COMMANDS).map((name) => [name, "batch"]));

/** The IAM actions a bag of injected command classes lets code send (`{ SubmitJobCommand }` → `batch:SubmitJob`). */
export function injectedActions(commands: object, file: string): SdkCall[] {
  return Object.keys(commands).map((name) => ({ action: actionOf(`${INJECTED_COMMANDS.get(name) ?? "unknown"}:${name.replace(/Command$/, "")}`), file }));
}

export interface SdkCall {
  action: string;
  file: string;
}

export function sdkCallsIn(file: string): SdkCall[] {
  const source = readFileSync(file, "utf8");
  const calls: SdkCall[] = [];
  const serviceOfName = new Map<string, string>();
  // `import { X } from "@aws-sdk/client-s"` and a package's CommonJS `const { X } = require("@aws-sdk/client-s")`.
  for (const m of source.matchAll(/(?:import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*|const\s*\{([^}]*)\}\s*=\s*require\()"@aws-sdk\/client-([a-z0-9-]+)"/g)) {
    const [names, pkg] = [(m[1] ?? m[2])!, m[3]!];
    for (const name of names.split(",").map((n) => n.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]!.split(":")[0]!.trim())) {
      serviceOfName.set(name, SERVICE_OF_PACKAGE[pkg] ?? pkg);
    }
  }
  // `new XCommand(`, or through the object that carries it: `new deps.commands.XCommand(` (a package's
  // `new client_s_1.XCommand(` is read below).
  for (const m of source.matchAll(/new\s+(?!client_[a-z0-9]+_1\.)(?:[\w$]+\??\.)*([A-Z]\w*)Command\s*\(/g)) {
    const service = serviceOfName.get(`${m[1]}Command`) ?? INJECTED_COMMANDS.get(`${m[1]}Command`);
    calls.push({ action: actionOf(`${service ?? "unknown"}:${m[1]}`), file });
  }
  for (const m of source.matchAll(/client_([a-z0-9]+)_1\.([A-Z]\w*)Command\b/g)) calls.push({ action: actionOf(`${SERVICE_OF_PACKAGE[m[1]!] ?? m[1]}:${m[2]}`), file });
  for (const m of source.matchAll(/\bbatch\.([a-z]\w*)\s*\(/g)) {
    if (m[1] !== "send") calls.push({ action: `batch:${m[1]![0]!.toUpperCase()}${m[1]!.slice(1)}`, file });
  }
  return calls;
}

/** {@link sdkCallsIn} over every `.ts`/`.js` file under `dir` (or the file itself), skipping `skip` folders. */
export function sdkCallsUnder(dir: string, skip: readonly string[] = []): SdkCall[] {
  if (statSync(dir).isFile()) return sdkCallsIn(dir);
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (skip.includes(entry)) return [];
    if (statSync(full).isDirectory()) return sdkCallsUnder(full, skip);
    return /\.(ts|js)$/.test(entry) && !entry.endsWith(".d.ts") ? sdkCallsIn(full) : [];
  });
}
