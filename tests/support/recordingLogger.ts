/** A logger that keeps every line it is given, for tests that assert on what was logged. */

export interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** A contract/ `Logger` (what both the trigger and the orchestrator take) that records its lines. */
export interface RecordingLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Every line so far, in order. */
  lines: LogLine[];
}

export function recordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}
