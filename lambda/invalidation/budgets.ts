/**
 * The handler's time budgets, in one place: how long each step may take, how long it waits between
 * tries, and how much time it keeps back. Each says what it bounds, its unit, why this value and,
 * where the value rests on what AWS does, the section of `docs/` that holds the source.
 *
 * The budgets the construct shares with the handler stay in `src/shared/contract.ts`, because the
 * construct sets the resource's ServiceTimeout from them: `ANSWER_MARGIN_SECONDS` (120 s between the
 * handler's own deadline and CloudFormation's ServiceTimeout), `MAX_SERVICE_TIMEOUT_SECONDS` (3600 s,
 * the longest ServiceTimeout CloudFormation accepts) and `MAX_TIMEOUT_SECONDS` (their difference,
 * the longest `timeout` a user may set).
 */

// Retrying a call

/**
 * First pause between two tries of a call to AWS, in milliseconds; each later pause doubles, up to
 * `MAX_BACKOFF_MS` (the SDK's own retries come first). Every retry loop of the handler starts
 * here, waiting for room in CloudFront's in-progress limits included; it is also the fixed pause
 * between two reads of an invalidation that is not completed yet (wait.ts). A chosen value, not an
 * AWS fact: short enough to waste little of a deploy's time.
 */
export const FIRST_BACKOFF_MS = 1000;

/**
 * Longest pause between two tries of a call to AWS, in milliseconds. A chosen value: a long
 * outage or a full in-progress limit is not polled hard, and its end is noticed within half a minute.
 */
export const MAX_BACKOFF_MS = 30_000;

/**
 * How long an AccessDenied is retried, in milliseconds, from the first denial. IAM is eventually
 * consistent: a policy created or changed in the same deploy can take seconds to apply, and the first
 * calls after it may be denied (docs/aws-services.md, "IAM";
 * docs/cloudformation.md, "Rollback order (IAM policies included)"). AWS gives no bound; two minutes covers what is reported, and a denial that lasts
 * longer is a missing permission.
 */
export const ACCESS_DENIED_RETRY_MS = 120_000;

// Each SDK call (clients/request-handler.ts)

/**
 * Longest an SDK call may take to open its connection, in milliseconds. A chosen value: room for a
 * slow network, and a connection that cannot be made is retried rather than waited on.
 */
export const CONNECTION_TIMEOUT_MS = 5_000;

/**
 * Longest a whole SDK request may take, in milliseconds: the SDK only logs it unless told to throw,
 * which the handler does. A chosen value, long for the small calls the handler makes and short
 * enough to retry within a deploy's time; every call is also cut off at the time its caller has left
 * (runtime.ts, `callSignal`).
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Longest an SDK call's socket may stay idle, in milliseconds: as long as the whole request may take. */
export const SOCKET_TIMEOUT_MS = 30_000;

// Waiting for CloudFront

/**
 * Shortest and longest pause between the SDK waiter's polls of GetInvalidation, in seconds (the
 * waiter's own unit). CloudFront usually completes an invalidation in minutes, with no SLA
 * (docs/cloudfront.md, "Cost and time"): 2 s notices a fast one quickly, 30 s keeps a slow one from
 * being polled hard.
 */
export const WAIT_MIN_DELAY_SECONDS = 2;
/** See `WAIT_MIN_DELAY_SECONDS`. */
export const WAIT_MAX_DELAY_SECONDS = 30;

/**
 * The handler starts the SDK waiter after a read that is not Completed yet only when more than this
 * many seconds of the invocation's work time (and the request's) are left; with less it reads again
 * after a pause of `FIRST_BACKOFF_MS`. A chosen
 * value: a waiter run that short would end before its first wait was over.
 */
export const WAITER_MIN_LEFT_SECONDS = 3;

/**
 * How far CloudFront's clock may lag the handler's, in milliseconds, when telling a new invalidation
 * from one its CallerReference already made (docs/cloudfront.md, "CallerReference"): both keep to
 * NTP, within milliseconds; a repeat comes seconds later.
 */
export const CLOCK_SKEW_MS = 2000;

// Reading what a request needs

/**
 * How long telling a late duplicate may take, in milliseconds (DescribeStackResource, retries
 * included): past that, the request is taken as live. A chosen value: several tries of the call
 * (DescribeStackResource), and little of the request's time.
 */
export const RESOURCE_STATUS_LIMIT_MS = 20_000;

/**
 * How long recalling earlier invalidation ids may take, in milliseconds: they are a courtesy, the
 * answer is not, so they get at most half a minute of the request's time.
 */
export const RECALL_LIMIT_MS = 30_000;

/**
 * How long a Delete may take to read the stack status before it answers without purging, in
 * milliseconds. A chosen value: most Deletes purge nothing, so one should not hold the stack for
 * long; a minute is many tries of DescribeStacks.
 */
export const DELETE_READ_LIMIT_MS = 60_000;

/**
 * How long reading a `changedFiles` deployment's manifests from S3 may take, retries included, in
 * milliseconds, before the deploy purges the whole prefix instead. A chosen value: many tries of
 * GetObject, and most of the request's time left to purge.
 */
export const MANIFEST_READ_LIMIT_MS = 60_000;

// The purge after a failed deploy

/**
 * How long the purge of one rollback event keeps trying (hand-overs to fresh invocations and
 * Lambda's retries included) to get every purge accepted, in milliseconds, from when CloudFormation
 * emitted the event: EventBridge may deliver it up to 24 hours late (the rule's maximum event age;
 * docs/eventbridge.md, "Retries: EventBridge, then Lambda"), and the content is still to be purged
 * then, so 25 hours, one past that. CloudFront's in-progress limits clear within minutes as a rule.
 */
export const ROLLBACK_PURGE_LIMIT_MS = 25 * 60 * 60 * 1000;

/**
 * How long reading the stack's events may take, retries included, in milliseconds, before the purge
 * goes on without them (the template's targets only). Five minutes is many pages of
 * DescribeStackEvents (docs/cloudformation.md, "Stack events (DescribeStackEvents)") and retries of
 * its throttling, and a small share of `ROLLBACK_PURGE_LIMIT_MS`.
 */
export const STACK_EVENTS_LIMIT_MS = 5 * 60 * 1000;

/**
 * How far apart, in milliseconds, the EventBridge event's `time` and the stack's own event of the
 * same status may be stamped: the stack's event may be up to this much later, and reading the
 * stack's events goes on until they reach this much before that time (back to the stable status
 * before the failed deploy). The two are stamped apart; a chosen value, far more than the clocks
 * differ and less than the time between one failed deploy and the next.
 */
export const CLOCK_SLACK_MS = 60_000;

// An invocation's time (runtime.ts, index.ts)

/**
 * The part of an invocation's time kept back for handing over or answering, in milliseconds:
 * `RESERVE_SHARE` of it, at least `MIN_RESERVE_MS` and at most `MAX_RESERVE_MS` (see `reserveMs`
 * in runtime.ts). The time guard (index.ts) stops the work when `GUARD_RESERVE_SHARE` of the reserve is left. Chosen
 * values: a fifth leaves a short invocation room to answer, three seconds is the least kept for a hand-over
 * (one asynchronous Invoke) or an answer (one PUT), and a minute is ample for either on a long one.
 */
export const RESERVE_SHARE = 0.2;
/** See `RESERVE_SHARE`. */
export const MIN_RESERVE_MS = 3_000;
/** See `RESERVE_SHARE`. */
export const MAX_RESERVE_MS = 60_000;

/** The share of the reserve left when the time guard (index.ts) stops the work: half. */
export const GUARD_RESERVE_SHARE = 1 / 2;

/**
 * Longest the time guard waits, in milliseconds, for the work it stopped to wind down before it
 * hands over: at most `STOP_GRACE_RESERVE_SHARE` of the reserve, so that the hand-over keeps the rest.
 */
export const STOP_GRACE_MS = 1000;
/** See `STOP_GRACE_MS`: an eighth. */
export const STOP_GRACE_RESERVE_SHARE = 1 / 8;

/**
 * How long before Lambda stops the invocation the answer's last PUT must end, in milliseconds: an
 * answer not delivered by then fails the invocation, for Lambda to run it again (docs/eventbridge.md,
 * "Retries: EventBridge, then Lambda", for Lambda's retries of an asynchronous invocation).
 */
export const ANSWER_CUTOFF_MS = 1000;

// Answering CloudFormation (protocol.ts)

/**
 * Longest one PUT of the answer to the ResponseURL may take, in milliseconds, however slowly the
 * server answers (docs/cloudformation.md, "ResponseURL": a presigned S3 URL, a body of at most
 * 4096 bytes). A chosen value: such a PUT that takes longer is stuck, and is better tried again.
 */
export const ANSWER_ATTEMPT_MS = 10_000;

/**
 * First pause between two PUTs of the answer, in milliseconds; each later pause doubles, up to
 * `ANSWER_MAX_BACKOFF_MS`. Chosen values, shorter than for other calls: the answer is what
 * CloudFormation waits for, so a PUT that failed is tried again soon.
 */
export const ANSWER_FIRST_BACKOFF_MS = 500;
/** Longest pause between two PUTs of the answer, in milliseconds. See `ANSWER_FIRST_BACKOFF_MS`. */
export const ANSWER_MAX_BACKOFF_MS = 8000;
