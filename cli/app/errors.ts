/**
 * Exit codes of `batch-pipeline` and the one-line errors it prints. Every failure a user can cause or fix
 * (a bad flag, no stack outputs, no credentials, an unknown run, AWS refusing a call) is a
 * {@link CliError} with a message that says what to do (the project's files, read by stack/project.ts, fail
 * with a {@link StackFileError}, printed as one: {@link describeStackFileError}); anything else is a bug
 * and prints its stack.
 */
import { isClientError, isThrottlingError } from "../../batch/calls";
import { StackFileError } from "../../stack/project";
import { terminalText } from "./format";

/** Exit codes of `batch-pipeline`, documented in the README ("Operate it from a terminal"). */
export const CLI_EXIT = {
  /** Done; `watch`: the run SUCCEEDED. */
  ok: 0,
  /** `validate`: the config has mistakes; `watch`/`status`: the run FAILED; `redrive`: a replay failed. */
  failed: 1,
  /** Bad flags or arguments, no stack outputs, no credentials, an unknown run: fix the command or the setup. */
  usage: 2,
  /** AWS refused or failed a call (access denied, throttled past retries, unreachable). */
  aws: 3,
  /** A bug in batch-pipeline. */
  crashed: 70,
  /** Interrupted by Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

export type CliExitCode = (typeof CLI_EXIT)[keyof typeof CLI_EXIT];

/** A failure the user can act on: printed as `error: <message>` alone, no stack. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: CliExitCode = CLI_EXIT.usage,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A project file that cannot be read as Pulumi reads it (stack/project.ts: no `Pulumi.yaml`, no such stack,
 * not YAML) as the usage error it is; undefined for anything else. Its message names files found on disk (a
 * cloned repository's `Pulumi.<anything>.yaml`), so control characters in it are escaped.
 */
export function describeStackFileError(error: unknown): CliError | undefined {
  return error instanceof StackFileError ? new CliError(terminalText(error.message), CLI_EXIT.usage, { cause: error }) : undefined;
}

type SdkErrorShape = { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string } | undefined;

/** Names the SDK gives errors that mean "no usable credentials". */
const CREDENTIAL_ERRORS = new Set(["CredentialsProviderError", "ExpiredTokenException", "ExpiredToken", "TokenRefreshRequired", "InvalidClientTokenId", "UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch"]);

/**
 * Turns an AWS SDK error from `what` (e.g. `Batch ListJobs`) into a {@link CliError} whose one line says
 * what failed and what to do: missing or expired credentials, no region, access denied (with the action),
 * throttling, or an endpoint that did not answer. Returns `undefined` for anything that is not an SDK error.
 */
export function describeAwsError(error: unknown, what: string): CliError | undefined {
  const e = error as SdkErrorShape;
  if (!e || typeof e !== "object" || typeof e.name !== "string") return undefined;
  const status = e.$metadata?.httpStatusCode;
  const detail = (e.message ?? "").split("\n")[0];
  if (CREDENTIAL_ERRORS.has(e.name)) {
    return new CliError(`no usable AWS credentials for ${what} (${e.name}: ${detail}); set AWS_PROFILE, or run \`aws sso login\` / \`aws configure\``, CLI_EXIT.usage, { cause: error });
  }
  if (e.name === "Error" && /region is missing/i.test(detail)) {
    return new CliError(`no AWS region for ${what}: set AWS_REGION, or aws:region in the stack's Pulumi.<stack>.yaml`, CLI_EXIT.usage, { cause: error });
  }
  if (/AccessDenied|UnauthorizedOperation|AuthorizationError/.test(e.name) || status === 403) {
    return new CliError(`AWS denied ${what}: ${detail} (give your identity this permission, or use another AWS_PROFILE)`, CLI_EXIT.aws, { cause: error });
  }
  // Batch's throttling as the orchestrator knows it (batch/calls.ts), and the names other services give theirs.
  if (isThrottlingError(error) || /Throttl|TooManyRequests|RequestLimitExceeded/.test(e.name)) {
    return new CliError(`AWS throttled ${what} past the SDK's retries: ${detail}; try again in a minute`, CLI_EXIT.aws, { cause: error });
  }
  if (["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN"].includes(e.code ?? e.name)) {
    return new CliError(`cannot reach AWS for ${what} (${e.code ?? e.name}); check the network, AWS_REGION and AWS_ENDPOINT_URL`, CLI_EXIT.aws, { cause: error });
  }
  if (status !== undefined || "$metadata" in e) {
    return new CliError(`${what} failed: ${e.name}: ${detail}`, CLI_EXIT.aws, { cause: error });
  }
  return undefined;
}

/**
 * A failed AWS call worth trying again: throttling, a 5xx or the network (batch/calls.ts classifies the
 * SDK's error), not credentials, a missing region or a refusal. Sees through a {@link CliError} made by
 * {@link awsCall} to the SDK error it wraps.
 */
export function isTransientAwsError(error: unknown): boolean {
  const cause = error instanceof CliError && error.cause !== undefined ? error.cause : error;
  const known = describeAwsError(cause, "an AWS call");
  return known !== undefined && known.exitCode === CLI_EXIT.aws && (isThrottlingError(cause) || !isClientError(cause));
}

/** Runs one AWS call and turns its failure into a one-line {@link CliError} (see {@link describeAwsError}). */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw describeAwsError(error, what) ?? error;
  }
}
