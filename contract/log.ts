/**
 * The one logger interface of the runtime code: the trigger logs through `console` (the Lambda runtime
 * turns it into JSON records), the orchestrator writes JSON lines (jobs/log.ts); the silent default.
 */

/** Extra fields of a log line. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Discards everything: the default when a caller passes no logger. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
