/**
 * Reading a run's log streams (cli/logs/sources.ts) from CloudWatch Logs, interleaved by time.
 *
 * FilterLogEvents rather than GetLogEvents: it takes up to 100 streams of one log group per call
 * (CloudWatch Logs API reference, FilterLogEvents: `logStreamNames`, "Array Members: Minimum number of 1
 * item. Maximum number of 100 items") and returns their events merged in time order, so a step of 1,000
 * tasks is 10 calls per read instead of GetLogEvents' 1,000 (one stream per call). Both are limited per
 * account and region (FilterLogEvents 5 transactions per second, GetLogEvents 25; CloudWatch Logs
 * quotas), so for any run wider than a few streams FilterLogEvents costs fewer seconds of quota. Its pages
 * may be partly full or empty while a `nextToken` still says more may follow (same reference), so every
 * page is read until there is no token.
 *
 * One stream that does not exist (deleted, expired with its log group's retention, or not created yet)
 * fails the whole call with ResourceNotFoundException "The specified log stream does not exist." (the
 * reference's "The specified resource does not exist"; percona/rds_exporter enhanced/scraper.go and its
 * issue #81 meet the same), so a call naming several streams that fails so is split in halves until the
 * missing ones are alone, and those are reported instead of failing the read. A log group that does not
 * exist fails every call the same way ("The specified log group does not exist."): that is an error of its own.
 */
import { FilterLogEventsCommand, type FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { isThrottlingError } from "../../batch/calls";
import type { AwsClients } from "../app/context";
import { CLI_EXIT, CliError } from "../app/errors";
import type { LogSource } from "./sources";

/** FilterLogEvents takes at most this many `logStreamNames` (CloudWatch Logs API reference, FilterLogEvents). */
export const FILTER_LOG_STREAMS_MAX = 100;

/**
 * Throttling that outlasts the SDK's own retries (5 calls/s for the whole account and region, shared with
 * every console tab and script) is retried this often more, after 1, 2, 4, … s.
 */
export const FILTER_THROTTLE_RETRIES = 5;

type LogsClient = ReturnType<AwsClients["logs"]>;

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

/** What a read found: the lines, and the streams CloudWatch Logs said do not exist. */
export interface LogRead {
  lines: LogLine[];
  missing: LogSource[];
}

const isNotFound = (error: unknown) => (error as { name?: string } | undefined)?.name === "ResourceNotFoundException";
const isGroupNotFound = (error: unknown) => isNotFound(error) && /log group/i.test((error as Error).message ?? "");

/** The one-line error for a log group that does not exist. */
export function logGroupMissingError(group: string, cause: unknown): CliError {
  return new CliError(
    `CloudWatch Logs group ${group} does not exist: deploy the stack (\`pulumi up\`) or name the deployed one (--stack, AWS_REGION); ` +
      "a job definition whose awslogs-group option names it needs that group created",
    CLI_EXIT.usage,
    { cause },
  );
}

/** Every page of one FilterLogEvents query; nothing is kept of a query that fails part way. */
async function readPages(logs: LogsClient, group: string, logStreamNames: string[], window: LogWindow, sleep: (ms: number) => Promise<void>): Promise<FilteredLogEvent[]> {
  const events: FilteredLogEvent[] = [];
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
      sleep,
    );
    events.push(...(page.events ?? []));
    // A token that comes back unchanged would loop for ever.
    nextToken = page.nextToken && page.nextToken !== token ? page.nextToken : undefined;
  } while (nextToken);
  return events;
}

/**
 * The events of `streams`, and the streams that do not exist: a call refused with ResourceNotFoundException
 * is split in halves, each read again, down to single streams, so k missing streams of n cost at most
 * about 2·k·log2(n) calls more and every existing stream is still read.
 */
async function readStreams(logs: LogsClient, group: string, streams: string[], window: LogWindow, sleep: (ms: number) => Promise<void>): Promise<{ events: FilteredLogEvent[]; missing: string[] }> {
  try {
    return { events: await readPages(logs, group, streams, window, sleep), missing: [] };
  } catch (error) {
    if (isGroupNotFound(error)) throw logGroupMissingError(group, error);
    if (!isNotFound(error)) throw error;
    if (streams.length === 1) return { events: [], missing: streams };
    const half = Math.ceil(streams.length / 2);
    const first = await readStreams(logs, group, streams.slice(0, half), window, sleep);
    const second = await readStreams(logs, group, streams.slice(half), window, sleep);
    return { events: [...first.events, ...second.events], missing: [...first.missing, ...second.missing] };
  }
}

/**
 * Every event of `sources` in `window`, in time order (a stream's own order kept for equal times): per log
 * group, {@link FILTER_LOG_STREAMS_MAX} streams a call, every page; and the sources whose stream does not exist.
 * @throws CliError when a log group does not exist
 */
export async function readLogLines(logs: LogsClient, sources: readonly LogSource[], window: LogWindow, deps: { sleep: (ms: number) => Promise<void> }): Promise<LogRead> {
  const byGroup = new Map<string, LogSource[]>();
  for (const source of sources) byGroup.set(source.group, [...(byGroup.get(source.group) ?? []), source]);
  const lines: LogLine[] = [];
  const missing: LogSource[] = [];
  for (const [group, groupSources] of byGroup) {
    const byStream = new Map(groupSources.map((s) => [s.stream, s]));
    const streams = [...byStream.keys()];
    for (let i = 0; i < streams.length; i += FILTER_LOG_STREAMS_MAX) {
      const read = await readStreams(logs, group, streams.slice(i, i + FILTER_LOG_STREAMS_MAX), window, deps.sleep);
      for (const event of read.events) {
        const line = toLine(event, byStream);
        if (line) lines.push(line);
      }
      missing.push(...read.missing.map((stream) => byStream.get(stream)!));
    }
  }
  return { lines: lines.sort((a, b) => a.time - b.time), missing };
}

function toLine(event: FilteredLogEvent, byStream: ReadonlyMap<string, LogSource>): LogLine | undefined {
  const source = event.logStreamName ? byStream.get(event.logStreamName) : undefined;
  if (!source || event.timestamp === undefined) return undefined;
  return { time: event.timestamp, eventId: event.eventId ?? `${event.logStreamName}/${event.timestamp}/${event.message}`, message: (event.message ?? "").replace(/\r?\n$/, ""), source };
}
