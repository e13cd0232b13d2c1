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
  if (value instanceof Error) return value;
  if (typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string") return value as Error;
  const { name, message } = errorParts(value);
  return Object.assign(new Error(message, { cause: value }), { name });
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
