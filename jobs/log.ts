/**
 * Structured logging: one JSON object per line, which CloudWatch Logs Insights parses without a pattern.
 */

import { type LogFields, type Logger, silentLogger } from "../contract";

export { type LogFields, type Logger, silentLogger };

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Receives each line, without the trailing newline. */
  write: (line: string) => void;
  /**
   * Fields on every line (e.g. the run id and Batch job id).
   * @default none
   */
  base?: LogFields;
  /** @default () => new Date() */
  now?: () => Date;
}

export function createJsonLogger(opts: JsonLoggerOptions): Logger {
  const now = opts.now ?? (() => new Date());
  const line = (level: string) => (message: string, fields?: LogFields) =>
    opts.write(JSON.stringify({ time: now().toISOString(), level, message, ...opts.base, ...fields }, errorReplacer));
  return { info: line("info"), warn: line("warn"), error: line("error") };
}

/** `JSON.stringify` drops an Error's own fields (`message` is not enumerable); keep the useful ones. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(value.cause !== undefined ? { cause: value.cause } : {}) };
  }
  return value;
}
