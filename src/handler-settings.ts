import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Settings of the handler that all Invalidations of a stack share. Give them with
 * `Invalidation.configureHandler(scope, settings)`.
 */
export interface InvalidationHandlerSettings {
  /**
   * How long the handler's log group keeps its logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What becomes of the handler's log group when it leaves the stack: when the stack is deleted,
   * and when a failed first deploy (or a failed update that added the first Invalidation) rolls
   * back. `RemovalPolicy.RETAIN` keeps the logs for `logRetention`, so the requests of a stack that
   * is gone can still be read (the empty log group stays); `RemovalPolicy.DESTROY` deletes them
   * with the stack. `RemovalPolicy.SNAPSHOT` is refused: log groups have no snapshots.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}
