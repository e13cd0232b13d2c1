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

/**
 * `name: message` of an error-like value (a string `message`) whatever its class or realm: an error class of the
 * serialized code is not `instanceof Error` (Pulumi's serializer gives its constructor no `prototype` chain to
 * `Error`), and `String()` of one is "[object Object]". Anything else as `String()` (e.g. an abort reason "SIGTERM").
 */
export function describeError(value: unknown): string {
  if (typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string") {
    const { name, message } = value as { name?: unknown; message: string };
    return `${typeof name === "string" && name !== "" ? name : "Error"}: ${message}`;
  }
  return String(value);
}
