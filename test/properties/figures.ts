/**
 * What the property-based lifecycle test counts while it plays its sequences: the steps and their
 * outcomes, the faults injected and the violations found, summed over every sequence of a run.
 */

/** The counts of a run so far, summed over its sequences. */
export interface Figures {
  steps: number;
  deploys: number;
  /** Deploys whose Invalidation fires on a value (onChangeOf). */
  valueTriggerDeploys: number;
  rollbacks: number;
  rollbacksBeforePurge: number;
  rollbacksAfterPurge: number;
  /** Rollbacks that ended UPDATE_ROLLBACK_FAILED, and ContinueUpdateRollback calls. */
  failedRollbacks: number;
  continuedRollbacks: number;
  replacements: number;
  redeliveries: number;
  duplicateDeliveries: number;
  /** Older requests delivered again during a rollback. */
  staleDuplicates: number;
  deletions: number;
  /** Stack status events delivered to the stack's rule target, duplicates and late ones included. */
  eventDeliveries: number;
  eventsDeliveredTwice: number;
  eventsDeliveredLate: number;
  /** Rollback purges the handler ran to the end (first handling of an UPDATE_ROLLBACK_COMPLETE event). */
  rollbackPurges: number;
  cloudFrontRequests: number;
  injectedFaults: number;
  /** CloudFormation API calls (DescribeStacks, DescribeStackResource) throttled or made to hang. */
  cloudFormationFaults: number;
  /** Hand-overs to a fresh invocation that IAM refused (lambda:InvokeFunction denied). */
  invokeDenials: number;
  /** Deploys failed, and rolled back, because a hand-over was refused (the handler's documented answer). */
  handOffFailures: number;
  /** Invocations killed right after their answer reached CloudFormation. */
  killsAfterAnswer: number;
  /** Answer PUTs the ResponseURL refused with a 500. */
  answerFaults: number;
  invalidations: number;
  handlerInvocations: number;
  handOvers: number;
  /** Deploys with rollback disabled that failed (UPDATE_FAILED, CREATE_FAILED), RollbackStack calls, and deploys that fixed such a stack. */
  failedWithoutRollback: number;
  rollbackStacks: number;
  fixingDeploys: number;
  /** Deletions skipped because a policy retained the resource, Invalidations' and others'. */
  retainedResources: number;
  /** Removals of files by a BucketDeployment that does not retain them. */
  filesRemoved: number;
  /** CloudFront requests IAM refused (a grant not yet propagated, or one revoked). */
  iamDenials: number;
  /** Invariant violations found (a passing run has none). */
  violations: number;
  unanswered: number;
  peakWildcardsInProgress: number;
}

/** Figures with every count at zero. */
export function emptyFigures(): Figures {
  const names: Array<keyof Figures> = [
    'steps', 'deploys', 'valueTriggerDeploys', 'rollbacks', 'rollbacksBeforePurge', 'rollbacksAfterPurge', 'failedRollbacks', 'continuedRollbacks',
    'replacements', 'redeliveries', 'duplicateDeliveries', 'staleDuplicates', 'deletions', 'eventDeliveries', 'eventsDeliveredTwice', 'eventsDeliveredLate',
    'rollbackPurges', 'cloudFrontRequests', 'injectedFaults', 'cloudFormationFaults', 'invokeDenials', 'handOffFailures', 'killsAfterAnswer',
    'answerFaults', 'invalidations', 'handlerInvocations', 'handOvers', 'failedWithoutRollback', 'rollbackStacks', 'fixingDeploys', 'retainedResources',
    'filesRemoved', 'iamDenials', 'violations', 'unanswered', 'peakWildcardsInProgress',
  ];
  return Object.fromEntries(names.map((n) => [n, 0])) as unknown as Figures;
}
