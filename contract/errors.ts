/**
 * Errors in serialized code: what keeps an error class's fields when Pulumi serializes it, and the name and
 * message of anything thrown, duck-typed (logs, dead-letter records, the submitter's messages). Pure, imports
 * nothing: the Lambda and the orchestrator serialize or bundle it by value.
 */

/**
 * Error fields that survive serialization. Pulumi's closure serializer compiles `super(message)` in an
 * `Error` subclass to `Error.call(this, message)`, which returns a new error and sets nothing on `this`,
 * and leaves class fields (`name = "…"`) out: without this, the serialized Lambda's errors (and so its logs and dead-letter records) would carry a
 * name and no message. Every error class of the serialized code (functions/, and the planner's and the
 * submitter's) calls it right after `super`.
 */
export function keepErrorFields(error: Error, name: string, message: string, options?: { cause?: unknown }): void {
  error.name = name;
  error.message = message;
  if (options && "cause" in options) error.cause = options.cause;
  if (!error.stack) error.stack = `${name}: ${message}`;
}

/** True for a value with a string `message`: an error of any class or realm, as thrown or serialized. */
function isErrorLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}

/**
 * The `name` and `message` of anything thrown, by duck typing: in the serialized Lambda a failure need
 * not be `instanceof Error` (Pulumi's closure serializer rewrites the classes of functions/, and an SDK
 * error may come from another realm or another copy of its package), and `String()` of such an object
 * is "[object Object]", which is then all a dead-letter record says. An object with a string `message`
 * gives it (and its `name`, else "Error"); a string is the message; anything else is shown as JSON.
 */
export function errorParts(value: unknown): { name: string; message: string } {
  if (typeof value === "string") return { name: "Error", message: value };
  if (typeof value === "object" && value !== null) {
    const { name, message } = value as { name?: unknown; message?: unknown };
    const named = typeof name === "string" && name !== "" ? name : undefined;
    if (typeof message === "string") return { name: named ?? "Error", message };
    return { name: named ?? "Error", message: asJson(value) };
  }
  return { name: "Error", message: asJson(value) };
}

/** `name: message` of anything thrown ({@link errorParts}). */
export function errorSummary(value: unknown): string {
  const { name, message } = errorParts(value);
  return message === "" ? name : `${name}: ${message}`;
}

/** `value` itself when it looks like an error (a string `message`), else an `Error` saying what it was ({@link errorParts}). */
export function toError(value: unknown): Error {
  return isErrorLike(value) ? (value as Error) : toNativeError(value);
}

/**
 * `value` as a native `Error` (`instanceof Error` in this realm): itself when it is one, else a new `Error` with
 * its name and message ({@link errorParts}) and `value` as its `cause`. For what rethrows to code that checks
 * `instanceof Error`: Powertools' idempotency replaces any other failure of the wrapped function with
 * "IdempotencyUnknownError: An unknown error occurred while processing the request.", and an error class of
 * the serialized code is not one (Pulumi's serializer gives its constructor no `prototype` chain to `Error`).
 */
export function toNativeError(value: unknown): Error {
  if (value instanceof Error) return value;
  const { name, message } = errorParts(value);
  return Object.assign(new Error(message, { cause: value }), { name });
}

/** JSON of a value that is not error-like; its type (and keys) when it has no JSON. Never "[object Object]". */
function asJson(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // A cycle or a BigInt: described below.
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) return `an object that is not JSON (keys: ${Object.keys(value).slice(0, 10).join(", ") || "none"})`;
  return typeof value === "function" ? "a function" : String(value);
}

/**
 * `name: message` of an error-like value (a string `message`) whatever its class or realm: an error class of the
 * serialized code is not `instanceof Error` (Pulumi's serializer gives its constructor no `prototype` chain to
 * `Error`), and `String()` of one is "[object Object]". Anything else as `String()` (e.g. an abort reason "SIGTERM").
 */
export function describeError(value: unknown): string {
  if (!isErrorLike(value)) return String(value);
  const { name, message } = errorParts(value);
  return `${name}: ${message}`;
}
