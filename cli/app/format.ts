/**
 * Small text formatters every command shares: durations, sizes, counts, progress bars, timestamps, job
 * states in colour, and `--since` durations. Pure: colours come in as {@link Colors}.
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import type { Colors } from "./context";

/** `1,234,567`. */
export const fmtInt = (n: number) => n.toLocaleString("en-US");

/** `850ms`, `42s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `512 B`, `1.5 KiB`, `3.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A UTC timestamp as `2026-12-01 12:00:05Z` (no locale, so output is the same on every machine). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

/**
 * A bar of `width` cells: done (green), failed (red) and running (cyan) parts of `total`, the rest dim.
 * Without colour the parts are `█` done, `✗` failed, `▒` running, `·` to do, so it reads on any terminal.
 */
export function progressBar(parts: { done: number; failed: number; running: number }, total: number, width: number, c: Colors): string {
  if (total <= 0 || width <= 0) return "";
  const cells = (n: number) => Math.floor((n / total) * width);
  let failed = parts.failed > 0 ? Math.max(1, cells(parts.failed)) : 0;
  let done = cells(parts.done);
  let running = parts.running > 0 ? Math.max(1, cells(parts.running)) : 0;
  // Rounding must never overflow the bar, and a complete step fills it.
  while (done + failed + running > width) {
    if (running > 1 || (running === 1 && done + failed >= width)) running--;
    else if (done > 0) done--;
    else failed--;
  }
  if (parts.done + parts.failed === total) done = width - failed - running;
  const rest = width - done - failed - running;
  const part = (paint: (s: string) => string, cell: string, n: number) => (n > 0 ? paint(cell.repeat(n)) : "");
  return part(c.green, "█", done) + part(c.red, "✗", failed) + part(c.cyan, "▒", running) + part(c.dim, "·", rest);
}

/** A job state, coloured by what it means. */
export function colorState(state: JobStatus | string, c: Colors): string {
  switch (state) {
    case "SUCCEEDED":
      return c.green(state);
    case "FAILED":
      return c.red(state);
    case "RUNNING":
    case "STARTING":
      return c.cyan(state);
    case "RUNNABLE":
    case "CANCELLED":
    case "INTERRUPTED":
      return c.yellow(state);
    default:
      return c.dim(state);
  }
}

/**
 * A `--since` value as milliseconds: a positive number followed by `m` (minutes), `h` (hours), `d`
 * (days) or `w` (weeks), e.g. `90m`, `24h`, `7d`.
 * @returns undefined when `text` is not one
 */
export function parseSince(text: string): number | undefined {
  const match = /^([1-9]\d*)(m|h|d|w)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as "m" | "h" | "d" | "w"];
  return Number(match[1]) * unit;
}

/** Pads `text` to `width` columns (the visible text; colour codes do not count). */
export function pad(text: string, width: number): string {
  const visible = text.replace(/\x1b\[[0-9;]*m/g, "").length;
  return visible >= width ? text : text + " ".repeat(width - visible);
}

/** Rows as aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.replace(/\x1b\[[0-9;]*m/g, "").length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]!))).join("  ").trimEnd());
}

/**
 * `line` cut to fewer than `columns` visible characters (colour codes kept), so a redrawn line never
 * wraps; as it is when the width is unknown (0).
 */
export function fit(line: string, columns: number): string {
  const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
  if (columns <= 0 || plain.length < columns) return line;
  let out = "";
  let visible = 0;
  for (let i = 0; i < line.length; i++) {
    const code = /^\x1b\[[0-9;]*m/.exec(line.slice(i, i + 16));
    if (code) {
      out += code[0];
      i += code[0].length - 1;
    } else if (visible++ < columns - 2) out += line[i];
    else break;
  }
  return `${out}…\x1b[0m`;
}

/**
 * Characters that change what a terminal shows or does rather than showing themselves: C0 controls (ESC
 * starts colour, cursor, clear-screen and OSC title sequences; BEL; CR and LF redraw lines), DEL, C1
 * controls (U+0080–U+009F: U+009B is a one-character CSI), and the Unicode bidirectional controls (U+061C,
 * U+200E/F, U+202A–U+202E, U+2066–U+2069) that reorder the text after them (CVE-2021-42574, "Trojan
 * Source").
 */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text from outside (an object key, a container's log line, a status reason) as it may be printed on a
 * terminal: every {@link TERMINAL_UNSAFE} character as a visible escape, `\n` `\r` `\t` by name, other
 * controls and DEL as `\xHH`, bidi controls as `\uHHHH`; everything else as it is. Every command prints
 * keys and log lines through it, except `--json` output, where JSON's own escaping applies.
 */
export function terminalText(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED_ESCAPES[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}
