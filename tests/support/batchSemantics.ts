/**
 * Batch's documented behaviour, each rule once with the sentence it cites: the Batch model
 * (tests/support/batchModel.ts), which every test and benchmark talks to, is built from these.
 * tests/support/batchSemantics.test.ts checks each rule against its sentence.
 *
 * Sources: the ListJobs, DescribeJobs, SubmitJob, TerminateJob and CancelJob API references
 * (https://docs.aws.amazon.com/batch/latest/APIReference/API_<Name>.html), the user guide's *Array jobs*
 * (https://docs.aws.amazon.com/batch/latest/userguide/array_jobs.html) and *Job dependencies*, and ECS's
 * StopTask API reference for the SIGKILL that follows SIGTERM.
 */
import { BatchServiceException, type JobStatus, type KeyValuesPair } from "@aws-sdk/client-batch";
import { DESCRIBE_JOBS_BATCH } from "../../batch/calls";

/**
 * ListJobs' `JOB_NAME` filter (ListJobs API reference, `filters`): "The value of the filter is a
 * case-insensitive match for the job name. If the value ends with an asterisk (*), the filter matches any
 * job name that begins with the string before the '*'. [...] For example, test1 matches both Test1 and
 * test1, and test1* matches both test1 and Test10."
 */
export function jobNameFilterMatches(value: string, jobName: string): boolean {
  return jobNameFilter(value)(jobName);
}

/** {@link jobNameFilterMatches} for one value and many names. */
export function jobNameFilter(value: string): (jobName: string) => boolean {
  const wanted = value.toLowerCase();
  if (!wanted.endsWith("*")) return (jobName) => jobName.length === wanted.length && jobName.toLowerCase() === wanted;
  const prefix = wanted.slice(0, -1);
  return (jobName) => jobName.length >= prefix.length && jobName.slice(0, prefix.length).toLowerCase() === prefix;
}

/**
 * ListJobs' `JOB_DEFINITION` filter (ListJobs API reference, `filters`): "The value for the filter is the
 * name or Amazon Resource Name (ARN) of the job definition. [...] The value is case sensitive. When the value
 * for the filter is the job definition name, the results include all the jobs that used any revision of that
 * job definition name. If the value ends with an asterisk (*), the filter matches any job definition name
 * that begins with the string before the '*'. [...] When the JOB_DEFINITION filter is used and the ARN is
 * used [...], the results include jobs that used the specified revision of the job definition. Asterisk (*)
 * isn't supported when the ARN is used." `jobDefinition` is what the job was submitted with.
 */
export function jobDefinitionFilterMatches(value: string, jobDefinition: string): boolean {
  const parse = (d: string) => {
    const bare = d.startsWith("arn:") ? d.slice(d.indexOf(":job-definition/") + ":job-definition/".length) : d;
    const [name, revision] = bare.split(":");
    return { name: name!, revision };
  };
  const job = parse(jobDefinition);
  if (value.startsWith("arn:")) {
    const wanted = parse(value);
    return wanted.name === job.name && wanted.revision === (job.revision ?? "1");
  }
  return value.endsWith("*") ? job.name.startsWith(value.slice(0, -1)) : job.name === value;
}

/** What ListJobs lists without `jobStatus` (ListJobs API reference, `jobStatus`): "If you don't specify a status, only RUNNING jobs are returned." */
export const LISTED_WITHOUT_STATUS: JobStatus = "RUNNING";

/**
 * Whether a job of a queue's listing passes ListJobs' one filter (ListJobs API reference, `filters`): "Only
 * one filter can be used at a time. When the filter is used, jobStatus is ignored with the exception that
 * SHARE_IDENTIFIER and jobStatus can be used together. The filter doesn't apply to child jobs in an array
 * or multi-node parallel (MNP) jobs." `BEFORE_CREATED_AT` and `AFTER_CREATED_AT` take "the number of
 * milliseconds since 00:00:00 UTC (midnight) on January 1, 1970" and compare it with `createdAt`; without a
 * filter, only jobs in `jobStatus` ({@link LISTED_WITHOUT_STATUS} if none) are listed.
 * @throws the ClientException Batch answers for a filter it does not know
 */
export function listFilterMatches(
  filter: KeyValuesPair | undefined,
  jobStatus: JobStatus | undefined,
  job: { jobName: string; jobDefinition?: string; createdAt: number; status: JobStatus; shareIdentifier?: string },
): boolean {
  if (!filter) return job.status === (jobStatus ?? LISTED_WITHOUT_STATUS);
  const value = String(filter.values?.[0] ?? "");
  switch (filter.name) {
    case "JOB_NAME":
      return jobNameFilterMatches(value, job.jobName);
    case "JOB_DEFINITION":
      return job.jobDefinition !== undefined && jobDefinitionFilterMatches(value, job.jobDefinition);
    case "BEFORE_CREATED_AT":
      return job.createdAt < Number(value);
    case "AFTER_CREATED_AT":
      return job.createdAt > Number(value);
    case "SHARE_IDENTIFIER":
      return job.shareIdentifier === value && (jobStatus === undefined || job.status === jobStatus);
    default:
      throw batchClientError(`Invalid filter name: ${filter.name}`);
  }
}

/**
 * ListJobs' page (ListJobs API reference, `maxResults`): "When --job-status is used, Batch returns up to
 * 1000 values. When --filters is used, Batch returns up to 100 values." Pages of at most 100 either way: the
 * smaller page is the harder case for a caller that pages (and the older wording's "up to 100 results").
 */
export const LIST_JOBS_PAGE = 100;

/** DescribeJobs takes at most 100 job ids (DescribeJobs API reference, `jobs`: "A list of up to 100 job IDs."). */
export const DESCRIBE_JOBS_MAX = DESCRIBE_JOBS_BATCH;

/**
 * ListJobs with a filter (ListJobs API reference): "The results are sorted by the createdAt field, with the
 * most recent jobs being first."
 */
export const newestFirst = <T extends { createdAt: number }>(jobs: readonly T[]): T[] => [...jobs].sort((a, b) => b.createdAt - a.createdAt);

/**
 * What TerminateJob does to a job in `status` (TerminateJob API reference): "Jobs that are in the STARTING
 * or RUNNING state are terminated, which causes them to transition to FAILED. Jobs that have not progressed
 * to the STARTING state are cancelled." Terminating is asking: the container gets SIGTERM, and FAILED comes
 * when it exits or, at the latest, {@link SIGKILL_AFTER_MS} later.
 */
export const terminatesRunning = (status: JobStatus): boolean => status === "STARTING" || status === "RUNNING";

/**
 * How long a container terminated runs on at most (ECS StopTask API reference): "This results in a SIGTERM
 * value and a default 30-second timeout, after which the SIGKILL value is sent and the containers are
 * forcibly stopped."
 */
export const SIGKILL_AFTER_MS = 30_000;

/**
 * Which jobs CancelJob cancels (CancelJob API reference): "Jobs that are in a SUBMITTED, PENDING, or RUNNABLE
 * state are cancelled and the job status is updated to FAILED. [...] When you try to cancel an array parent
 * job in PENDING, AWS Batch attempts to cancel all child jobs. The array parent job is canceled when all
 * child jobs are completed. Jobs that progressed to the STARTING or RUNNING state aren't canceled. However,
 * the API operation still succeeds, even if no job is canceled. These jobs must be terminated with the
 * TerminateJob operation." The same holds for the children of an array parent that TerminateJob cancels.
 */
export const cancellable = (status: JobStatus): boolean => status === "SUBMITTED" || status === "PENDING" || status === "RUNNABLE";

/**
 * An array parent's status from its children's (user guide, *Array jobs*): "The parent array job can enter a
 * SUBMITTED, PENDING, FAILED, or SUCCEEDED status. An array parent job is updated to PENDING when any child
 * job is updated to RUNNABLE", and (ListJobs API reference, `jobStatus`) it will "remain in PENDING status
 * while child jobs are running". It ends once every child has: SUCCEEDED if all did, else FAILED. `children`:
 * how many children are in each state.
 */
export function arrayParentStatus(children: Partial<Record<JobStatus, number>>): JobStatus {
  const live = (["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"] as const).some((s) => (children[s] ?? 0) > 0);
  return live ? "PENDING" : (children.FAILED ?? 0) > 0 ? "FAILED" : "SUCCEEDED";
}

/** One page of `items` from `nextToken` (an offset here: Batch's tokens are opaque). */
export function listPage<T>(items: readonly T[], nextToken: string | undefined, size = LIST_JOBS_PAGE): { items: T[]; nextToken?: string } {
  const from = Number(nextToken ?? 0);
  if (!Number.isInteger(from) || from < 0) throw batchClientError(`Invalid nextToken: ${nextToken}`);
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
