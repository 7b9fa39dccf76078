/**
 * The one log line per purge that operators query (README, "Operations"): which distribution,
 * which invalidations, how many paths and wildcards, why, and how long CloudFront took to accept
 * and to complete them. Every field is a top-level JSON key, so CloudWatch Logs Insights can
 * filter and aggregate on it (`filter message = "purge" | stats sum(pathCount) by distributionId`).
 */
import type { Job, Target } from './plan';
import type { JobProgress, Runtime } from './runtime';
import { pathKind } from '../../src/shared/paths';

/** Why a purge ran: a deploy's Create or Update, a cleanup or rollback Delete, or the stack's rule after a failed deploy. */
export type PurgeCause = 'deploy' | 'cleanup' | 'failed deploy';

/** How a purge ended. */
export type PurgeOutcome = 'accepted' | 'completed' | 'timed out' | 'failed';

/** At most this many paths are written in the line; the counts cover them all. */
const PATHS_SHOWN = 20;

/** What the line says of a purge, besides its job. */
export interface PurgeFacts {
  readonly cause: PurgeCause;
  readonly outcome: PurgeOutcome;
  /** When the purge's budget started (epoch ms): the request's or event's time. */
  readonly startedAt: number;
  readonly stackId?: string;
  readonly logicalResourceId?: string;
  readonly reason?: string;
}

/** Writes the purge's line. Only batches CloudFront accepted count as submitted paths. */
export function logPurge(rt: Runtime, job: Job, progress: JobProgress, facts: PurgeFacts): void {
  const submitted = job.batches.filter((b) => progress.ids[b.number - 1]).flatMap((b) => b.paths);
  const since = (at: number | undefined) => (at === undefined ? undefined : Math.max(0, at - facts.startedAt));
  rt.log('purge', {
    cause: facts.cause,
    outcome: facts.outcome,
    ...targetFields(job.target),
    invalidationIds: progress.ids.filter((id) => id),
    // A repeated request or a retried invocation finds what an earlier run created: CloudFront bills nothing new.
    repeat: submitted.length > 0 && (progress.created ?? 0) === 0,
    callerReference: job.reference,
    pathCount: submitted.length,
    wildcardCount: submitted.filter((p) => pathKind(p) === 'wildcard').length,
    paths: submitted.length > PATHS_SHOWN ? [...submitted.slice(0, PATHS_SHOWN), `... ${submitted.length - PATHS_SHOWN} more`] : submitted,
    msToAccepted: since(progress.acceptedAt),
    msToCompleted: since(progress.completedAt),
    stackId: facts.stackId,
    logicalResourceId: facts.logicalResourceId,
    reason: facts.reason,
  });
}

function targetFields(target: Target): Record<string, string | undefined> {
  return { distributionId: target.distributionId, distributionTenantId: target.tenantId };
}
