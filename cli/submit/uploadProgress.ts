/**
 * How `submit` shows an upload's progress on stderr: a cli-progress bar redrawn in place on a terminal
 * (bytes, rate, ETA), plain lines at every 10 % otherwise (a CI log gets a handful of lines, not a
 * redraw per part), and nothing for a file small enough for one PutObject (it is done before a line
 * would help). Rate and ETA come from the context's clock, so what tests see is deterministic.
 */
import { Writable } from "node:stream";
import { SingleBar } from "cli-progress";
import type { CliContext } from "../app/context";
import { formatBytes, formatDuration, progressBar } from "../app/format";
import type { UploadProgress } from "./upload";

/** Receives an upload's progress; `stop` ends the display (done, failed or aborted). */
export interface ProgressReporter {
  update(progress: UploadProgress): void;
  stop(): void;
}

/** `2.5 MiB/s` and `ETA 4s` from bytes done, total and elapsed milliseconds (`–` before any time passed). */
export function rateAndEta(loaded: number, total: number, elapsedMs: number): { rate: string; eta: string } {
  if (elapsedMs <= 0 || loaded <= 0) return { rate: "–", eta: "–" };
  const perSecond = loaded / (elapsedMs / 1000);
  return { rate: `${formatBytes(Math.round(perSecond))}/s`, eta: formatDuration(((total - loaded) / perSecond) * 1000) };
}

const percent = (loaded: number, total: number) => (total <= 0 ? 100 : Math.floor((loaded / total) * 100));

/** The stream cli-progress draws on: the context's stderr, as a terminal of its width. */
function stderrStream(ctx: CliContext): NodeJS.WritableStream {
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      ctx.term.err(String(chunk));
      done();
    },
  });
  return Object.assign(stream, { isTTY: true, columns: ctx.term.columns });
}

/** A bar redrawn in place on stderr (cursor hidden while it runs, restored by `stop`). */
function ttyReporter(ctx: CliContext, label: string, totalBytes: number): ProgressReporter {
  const started = ctx.now();
  const c = ctx.term.color;
  const barWidth = Math.max(10, Math.min(40, ctx.term.columns - 60));
  const bar = new SingleBar({
    stream: stderrStream(ctx),
    hideCursor: true,
    clearOnComplete: false,
    linewrap: false,
    // Redraws come from `update` (and the final one from `stop`), never from cli-progress's own timer clock.
    fps: 1,
    format: (_options, params) => {
      const loaded = params.value;
      const { rate, eta } = rateAndEta(loaded, params.total, ctx.now() - started);
      return `${label} ${progressBar({ done: loaded, failed: 0, running: 0 }, params.total, barWidth, c)} ${String(percent(loaded, params.total)).padStart(3)}% ${formatBytes(loaded)}/${formatBytes(params.total)} ${c.dim(`${rate} ETA ${eta}`)}`;
    },
  });
  bar.start(totalBytes, 0);
  return {
    update: (p) => {
      bar.update(p.loadedBytes);
      bar.render();
    },
    stop: () => {
      bar.stop();
    },
  };
}

/** A plain line each time the upload passes another 10 %. */
function lineReporter(ctx: CliContext, totalBytes: number): ProgressReporter {
  const started = ctx.now();
  let lastTenth = 0;
  return {
    update: (p) => {
      const tenth = Math.floor(percent(p.loadedBytes, totalBytes) / 10);
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      const { rate, eta } = rateAndEta(p.loadedBytes, totalBytes, ctx.now() - started);
      const rest = p.loadedBytes >= totalBytes ? "" : `, ETA ${eta}`;
      ctx.term.err(`uploaded ${formatBytes(p.loadedBytes)} of ${formatBytes(totalBytes)} (${percent(p.loadedBytes, totalBytes)}%), ${rate}${rest}\n`);
    },
    stop: () => {},
  };
}

const silent: ProgressReporter = { update: () => {}, stop: () => {} };

/**
 * The reporter for an upload of `totalBytes`: a bar on a TTY; otherwise 10 % lines, or nothing when the
 * file goes in one PutObject (`multipart` false). All of it on stderr, so `--json` output stays clean.
 */
export function progressReporter(ctx: CliContext, options: { label: string; totalBytes: number; multipart: boolean }): ProgressReporter {
  if (ctx.term.isTTY) return ttyReporter(ctx, options.label, options.totalBytes);
  return options.multipart ? lineReporter(ctx, options.totalBytes) : silent;
}
