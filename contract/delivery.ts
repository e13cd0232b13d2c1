/**
 * How S3's events reach the trigger function, and the numbers of each delivery: what the stack deploys
 * (infra/trigger.ts, stack config `trigger.delivery`) and the burst benchmark models (bench/burst.ts), each
 * once, with its source. Pure constants (see contract/index.ts); the trigger's handler imports the timeout (its
 * invocation's end without a Lambda context), so that much is serialized into the Lambda.
 */

/**
 * `async`: S3 invokes the function asynchronously (Lambda's retries, then the dead-letter queue).
 * `queue`: S3 sends its events to an SQS queue that a Lambda event source mapping polls.
 */
export const TRIGGER_DELIVERIES = ["async", "queue"] as const;
export type TriggerDelivery = (typeof TRIGGER_DELIVERIES)[number];

/** The trigger function's timeout, in seconds. */
export const TRIGGER_TIMEOUT_SECONDS = 60;

/**
 * Asynchronous invocation ("Configuring error handling for asynchronous invocation", Lambda developer guide):
 * `maximumRetryAttempts` is at most 2 (Lambda's maximum: the first attempt and two retries, then the
 * on-failure destination), `maximumEventAgeInSeconds` at most 21,600 (6 h).
 */
export const ASYNC_INVOCATION = { retryAttempts: 2, maxEventAgeSeconds: 6 * 3600 } as const;

/**
 * The longest SQS keeps a message (`MessageRetentionPeriod`, 60 s to 1,209,600 s: SQS API reference,
 * SetQueueAttributes): the dead-letter queue's retention, two weeks to notice, fix and redrive.
 */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The `queue` delivery: a standard SQS queue and the event source mapping that polls it.
 * - `visibilityTimeoutSeconds`: "set the source queue's visibility timeout to at least six times the
 *   configuration timeout on your function" (Lambda developer guide, "Creating and configuring an Amazon SQS
 *   event source mapping"); Lambda refuses a mapping whose function's timeout exceeds it.
 * - `maxReceiveCount`: the redrive policy's; the same page asks for at least 5, so a message throttled or
 *   failed a few times is not dead-lettered at once.
 * - `retentionSeconds`: 7 days, shorter than the dead-letter queue's 14: for a standard queue "the expiration
 *   of a message is always based on its original enqueue timestamp. When a message is moved to a dead-letter
 *   queue, the enqueue timestamp is unchanged [...] it is a best practice to always set the retention period
 *   of a dead-letter queue to be longer than the retention period of the original queue" (SQS developer guide,
 *   "Setting-up dead-letter queue retention in Amazon SQS"). A message dead-lettered after at most 7 days in
 *   the queue keeps at least 7 more in the dead-letter queue to be redriven; a backlog survives a week-long
 *   outage of the trigger.
 * - `batchSize` and `batchingWindowSeconds`: at most 10 messages an invocation, gathered for up to 1 s once a
 *   poller holds one (what bench/burst.ts measured the queue rows with).
 * - `maxConcurrency`: `ScalingConfig.MaximumConcurrency`, 2 to 1,000 (Lambda API reference, "ScalingConfig").
 */
export const TRIGGER_QUEUE = {
  visibilityTimeoutSeconds: 6 * TRIGGER_TIMEOUT_SECONDS,
  maxReceiveCount: 5,
  retentionSeconds: 7 * 24 * 3600,
  batchSize: 10,
  batchingWindowSeconds: 1,
  maxConcurrency: { min: 2, max: 1000 },
} as const;

/**
 * How long after an inline submission failed (and withdrew what it had submitted) the CLI still expects the
 * trigger to submit the run again, unless the event ran out of retries. Asynchronous invocation retries a function
 * error "with a one-minute wait between the first two attempts, and two minutes between the second and third"
 * (Lambda developer guide, "How Lambda handles errors and retries with asynchronous invocation"), but a retry can
 * itself be throttled (reserved concurrency) and kept for up to maximumEventAgeInSeconds; the queue delivery
 * receives the message again after its visibility timeout, up to maxReceiveCount times, behind a burst's backlog.
 * The bound: every receive the queue allows before dead-lettering, 5 × 360 s, plus a minute to submit. Past it
 * the CLI shows the run FAILED (the dead-letter queue then holds its event, or a later retry replaces the jobs).
 */
export const TRIGGER_RETRY_WITHIN_SECONDS = TRIGGER_QUEUE.maxReceiveCount * TRIGGER_QUEUE.visibilityTimeoutSeconds + 60;
