/**
 * CloudWatch Logs for the `logs` tests: a fake behind aws-sdk-client-mock holding log events by group and
 * stream, answering FilterLogEvents.
 *
 * FilterLogEvents as documented (CloudWatch Logs API reference, FilterLogEvents): `logStreamNames` 1 to 100
 * items (InvalidParameterException otherwise), events of those streams in time order from `startTime`,
 * pages that may be partly full or empty while a `nextToken` says more may follow; ResourceNotFoundException
 * for a log group that does not exist, and for the whole call when any one of its `logStreamNames` does not
 * exist (worst case, as percona/rds_exporter enhanced/scraper.go and its issue #81 meet it: "The specified
 * log stream does not exist."); ThrottlingException for the first `throttle` calls (5 a second per account).
 */
import { FilterLogEventsCommand, type FilterLogEventsCommandInput } from "@aws-sdk/client-cloudwatch-logs";
import type { AwsStub } from "aws-sdk-client-mock";
import { OUTPUTS } from "./support";

export interface StoredEvent {
  group: string;
  stream: string;
  timestamp: number;
  message: string;
  eventId: string;
}

export class FakeLogs {
  readonly events: StoredEvent[] = [];
  /** Events per page at most; whether the first page of each query is empty (with a token); calls throttled first. */
  pageSize = 10_000;
  emptyFirstPage = false;
  throttle = 0;
  /** Log groups that exist, and stream names that do not (deleted, expired, or not created yet). */
  readonly groups = new Set([...Object.values(OUTPUTS.logGroupNames), "/custom/process", "/custom/start"]);
  readonly deleted = new Set<string>();
  private n = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any client's stub
  constructor(logs: AwsStub<any, any, any>) {
    logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => this.filter(input));
  }

  put(group: string, stream: string, timestamp: number, message: string): this {
    this.events.push({ group, stream, timestamp, message, eventId: `e${++this.n}` });
    return this;
  }

  private filter(input: FilterLogEventsCommandInput) {
    if (this.throttle-- > 0) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
    const names = input.logStreamNames ?? [];
    if (names.length < 1 || names.length > 100) {
      const message = "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100";
      throw Object.assign(new Error(message), { name: "InvalidParameterException", $metadata: { httpStatusCode: 400 } });
    }
    if (!this.groups.has(input.logGroupName!)) throw Object.assign(new Error("The specified log group does not exist."), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 400 } });
    if (names.some((n) => this.deleted.has(n))) throw Object.assign(new Error("The specified log stream does not exist."), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 400 } });
    const matching = this.events
      .filter((e) => e.group === input.logGroupName && names.includes(e.stream) && e.timestamp >= (input.startTime ?? -Infinity) && e.timestamp <= (input.endTime ?? Infinity))
      .sort((a, b) => a.timestamp - b.timestamp);
    const token = input.nextToken ?? "";
    if (this.emptyFirstPage && token === "") return { events: [], nextToken: "p0", searchedLogStreams: [] };
    const from = Number(token.replace(/^p/, "") || 0);
    const events = matching.slice(from, from + this.pageSize).map((e) => ({ logStreamName: e.stream, timestamp: e.timestamp, message: `${e.message}\n`, eventId: e.eventId, ingestionTime: e.timestamp + 200 }));
    return { events, ...(from + this.pageSize < matching.length ? { nextToken: `p${from + this.pageSize}` } : {}) };
  }
}
