/**
 * Structured logging: one JSON object per line, which CloudWatch Logs Insights parses without a pattern.
 */

import type { LogFields, Logger } from "../contract";

export type { LogFields, Logger };

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

/** Discards everything: the default when a caller passes no logger. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** `JSON.stringify` drops an Error's own fields (`message` is not enumerable); keep the useful ones. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(value.cause !== undefined ? { cause: value.cause } : {}) };
  }
  return value;
}
