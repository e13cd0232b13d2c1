/**
 * Reading a run's log streams (cli/runLogs.ts) from CloudWatch Logs, interleaved by time.
 *
 * FilterLogEvents rather than GetLogEvents: it takes up to 100 streams of one log group per call
 * (CloudWatch Logs API reference, FilterLogEvents: `logStreamNames`, "Array Members: Minimum number of 1
 * item. Maximum number of 100 items") and returns their events merged in time order, so a step of 1,000
 * tasks is 10 calls per read instead of GetLogEvents' 1,000 (one stream per call). Both are limited per
 * account and region (FilterLogEvents 5 transactions per second, GetLogEvents 25; CloudWatch Logs
 * quotas), so for any run wider than a few streams FilterLogEvents costs fewer seconds of quota. Its pages
 * may be partly full or empty while a `nextToken` still says more may follow (same reference), so every
 * page is read until there is no token.
 */
import { FilterLogEventsCommand, type FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { isThrottlingError } from "../jobs/batch";
import type { AwsClients } from "./context";
import type { LogSource } from "./runLogs";

/** FilterLogEvents takes at most this many `logStreamNames` (CloudWatch Logs API reference, FilterLogEvents). */
export const FILTER_LOG_STREAMS_MAX = 100;

/**
 * Throttling that outlasts the SDK's own retries (5 calls/s for the whole account and region, shared with
 * every console tab and script) is retried this often more, after 1, 2, 4, … s.
 */
export const FILTER_THROTTLE_RETRIES = 5;

async function withBackoff<T>(call: () => Promise<T>, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottlingError(error) || retry >= FILTER_THROTTLE_RETRIES) throw error;
      await sleep(1000 * 2 ** retry);
    }
  }
}

/** One line of a container's output, with whose it is. */
export interface LogLine {
  time: number;
  eventId: string;
  message: string;
  source: LogSource;
}

/** The time window to read: from `startTime` (inclusive), up to `endTime`, both in ms. */
export interface LogWindow {
  startTime?: number;
  endTime?: number;
}

/**
 * Every event of `sources` in `window`, in time order (a stream's own order kept for equal times):
 * per log group, {@link FILTER_LOG_STREAMS_MAX} streams a call, every page.
 */
export async function readLogLines(
  logs: ReturnType<AwsClients["logs"]>,
  sources: readonly LogSource[],
  window: LogWindow,
  deps: { sleep: (ms: number) => Promise<void> },
): Promise<LogLine[]> {
  const byGroup = new Map<string, LogSource[]>();
  for (const source of sources) byGroup.set(source.group, [...(byGroup.get(source.group) ?? []), source]);
  const lines: LogLine[] = [];
  for (const [group, groupSources] of byGroup) {
    const byStream = new Map(groupSources.map((s) => [s.stream, s]));
    const streams = [...byStream.keys()];
    for (let i = 0; i < streams.length; i += FILTER_LOG_STREAMS_MAX) {
      const logStreamNames = streams.slice(i, i + FILTER_LOG_STREAMS_MAX);
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await withBackoff(
          () =>
            logs.send(
              new FilterLogEventsCommand({
                logGroupName: group,
                logStreamNames,
                ...(window.startTime !== undefined ? { startTime: window.startTime } : {}),
                ...(window.endTime !== undefined ? { endTime: window.endTime } : {}),
                ...(token ? { nextToken: token } : {}),
              }),
            ),
          deps.sleep,
        );
        for (const event of page.events ?? []) {
          const line = toLine(event, byStream);
          if (line) lines.push(line);
        }
        // A token that comes back unchanged would loop for ever.
        nextToken = page.nextToken && page.nextToken !== token ? page.nextToken : undefined;
      } while (nextToken);
    }
  }
  return lines.sort((a, b) => a.time - b.time);
}

function toLine(event: FilteredLogEvent, byStream: ReadonlyMap<string, LogSource>): LogLine | undefined {
  const source = event.logStreamName ? byStream.get(event.logStreamName) : undefined;
  if (!source || event.timestamp === undefined) return undefined;
  return { time: event.timestamp, eventId: event.eventId ?? `${event.logStreamName}/${event.timestamp}/${event.message}`, message: (event.message ?? "").replace(/\r?\n$/, ""), source };
}
