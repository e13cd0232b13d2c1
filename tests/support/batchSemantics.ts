/**
 * Batch's documented behaviour that every test double of Batch shares (tests/jobs/fakeBatch.ts,
 * tests/cli/batchRunFake.ts, tests/cli/demoAccount.ts, bench/sim.ts): one home, so the fakes cannot disagree
 * about Batch. tests/support/batchSemantics.test.ts checks each rule against the sentence it cites.
 */
import { BatchServiceException, type ListJobsCommandInput } from "@aws-sdk/client-batch";
import { DESCRIBE_JOBS_BATCH } from "../../batch/calls";

/**
 * ListJobs' `JOB_NAME` filter (ListJobs API reference, `filters`): "The value of the filter is a
 * case-insensitive match for the job name. If the value ends with an asterisk (*), the filter matches any
 * job name that begins with the string before the '*'. [...] For example, test1 matches both Test1 and
 * test1, and test1* matches both test1 and Test10."
 */
export function jobNameFilterMatches(value: string, jobName: string): boolean {
  const name = jobName.toLowerCase();
  const wanted = value.toLowerCase();
  return wanted.endsWith("*") ? name.startsWith(wanted.slice(0, -1)) : name === wanted;
}

/** The `JOB_NAME` filter value of a ListJobs request, if it has one. */
export const jobNameFilterOf = (input: ListJobsCommandInput): string | undefined => input.filters?.find((f) => f.name === "JOB_NAME")?.values?.[0];

/**
 * ListJobs returns at most 100 jobs per page ("maxResults [...] This value can be between 1 and 100. If
 * this parameter isn't used, then ListJobs returns up to 100 results and a nextToken value if applicable.").
 */
export const LIST_JOBS_PAGE = 100;

/** DescribeJobs takes at most 100 job ids (DescribeJobs API reference, `jobs`: "A list of up to 100 job IDs."). */
export const DESCRIBE_JOBS_MAX = DESCRIBE_JOBS_BATCH;

/**
 * ListJobs with a filter (ListJobs API reference): "The results are sorted by the createdAt field, with the
 * most recent jobs being first."
 */
export const newestFirst = <T extends { createdAt: number }>(jobs: readonly T[]): T[] => [...jobs].sort((a, b) => b.createdAt - a.createdAt);

/** One page of `items` from `nextToken` (an offset here: Batch's tokens are opaque). */
export function listPage<T>(items: readonly T[], nextToken: string | undefined, size = LIST_JOBS_PAGE): { items: T[]; nextToken?: string } {
  const from = Number(nextToken ?? 0);
  const to = from + Math.min(size, LIST_JOBS_PAGE);
  return { items: items.slice(from, to), ...(to < items.length ? { nextToken: String(to) } : {}) };
}

/**
 * What the SDK surfaces for Batch's HTTP 429: the Batch model has no TooManyRequestsException class, so it
 * is a BatchServiceException named after the error code.
 */
export function tooManyRequests(): BatchServiceException {
  return new BatchServiceException({ name: "TooManyRequestsException", $fault: "client", $metadata: { httpStatusCode: 429 }, message: "Too Many Requests" });
}

/** A request Batch refuses (HTTP 400 `ClientException`, or another client error such as `AccessDeniedException` 403). */
export function batchClientError(message: string, name = "ClientException", status = 400): BatchServiceException {
  return new BatchServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status }, message });
}

/** Batch's HTTP 500: the call may or may not have taken effect (SubmitJob has no client token). */
export function serverError(): BatchServiceException {
  return new BatchServiceException({ name: "ServerException", $fault: "server", $metadata: { httpStatusCode: 500 }, message: "Internal Server Error" });
}

/** What the SDK's Node handler throws when a request times out: no response, so no HTTP status. */
export const timeout = () => Object.assign(new Error("Connection timed out after 30000 ms"), { name: "TimeoutError" });
