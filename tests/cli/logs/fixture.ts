/**
 * What the `logs` tests share: Batch as tests/cli/batchRunFake.ts and CloudWatch Logs as
 * tests/cli/cloudWatchLogsFake.ts behind aws-sdk-client-mock, both fresh before each test. Call once per file.
 */
import { BatchClient } from "@aws-sdk/client-batch";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach } from "vitest";
import { BatchRunFake } from "../batchRunFake";
import { FakeLogs } from "../cloudWatchLogsFake";

export function logsFixture() {
  const batch = mockClient(BatchClient);
  const logs = mockClient(CloudWatchLogsClient);
  /** This test's fakes (replaced before each test). */
  const current = {} as { fake: BatchRunFake; store: FakeLogs };
  beforeEach(() => {
    batch.reset();
    logs.reset();
    current.fake = new BatchRunFake(batch);
    current.store = new FakeLogs(logs);
  });
  return {
    batch,
    logs,
    current,
    /** The log stream of a job's (or child's) attempt. */
    streamOf: (jobId: string, attempt = 0) => current.fake.streamOf(jobId, attempt),
    /** The FilterLogEvents requests sent, in order. */
    filterInputs: () => logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input),
  };
}
