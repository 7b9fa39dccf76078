/**
 * CloudFront's invalidation API for a distribution or a distribution tenant, behind one interface.
 */
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  CreateInvalidationForDistributionTenantCommand,
  GetInvalidationCommand,
  GetInvalidationForDistributionTenantCommand,
  ListInvalidationsCommand,
  ListInvalidationsForDistributionTenantCommand,
  waitUntilInvalidationCompleted,
  waitUntilInvalidationForDistributionTenantCompleted,
} from '@aws-sdk/client-cloudfront';
import type { Invalidation, InvalidationList } from '@aws-sdk/client-cloudfront';
import { WAIT_MAX_DELAY_SECONDS, WAIT_MIN_DELAY_SECONDS } from './budgets';
import type { Target } from './plan';

export interface InvalidationState {
  readonly id: string;
  readonly status: string;
  readonly paths?: readonly string[];
  readonly callerReference?: string;
  /** When CloudFront created it (epoch ms). */
  readonly createTime?: number;
}

export interface InvalidationSummary {
  readonly id: string;
  readonly status: string;
}

/** The operations the handler needs; tests of the orchestration may supply their own. */
export interface InvalidationApi {
  create(target: Target, callerReference: string, paths: readonly string[], signal?: AbortSignal): Promise<InvalidationState>;
  get(target: Target, id: string, signal?: AbortSignal): Promise<InvalidationState>;
  /**
   * The target's invalidations, newest first, at most `pages` pages of 100. With `untilCompleted`,
   * it stops after a page whose oldest item is Completed: what is in progress is among the newest.
   */
  list(target: Target, pages: number, signal?: AbortSignal, untilCompleted?: boolean): Promise<InvalidationSummary[]>;
  /**
   * Polls (the SDK's waiter: at once, then backing off from `minDelay` to `maxDelay` seconds) until the
   * invalidation is Completed, for at most `maxWaitSeconds`. True when it completed, false on timeout.
   */
  waitCompleted(target: Target, id: string, maxWaitSeconds: number, signal?: AbortSignal): Promise<boolean>;
}

export class CloudFrontInvalidations implements InvalidationApi {
  constructor(private readonly client: CloudFrontClient) {}

  async create(target: Target, callerReference: string, paths: readonly string[], signal?: AbortSignal): Promise<InvalidationState> {
    const InvalidationBatch = { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: [...paths] } };
    const options = { abortSignal: signal };
    const out = target.tenantId
      ? await this.client.send(new CreateInvalidationForDistributionTenantCommand({ Id: target.tenantId, InvalidationBatch }), options)
      : await this.client.send(new CreateInvalidationCommand({ DistributionId: target.distributionId, InvalidationBatch }), options);
    return toState(out.Invalidation);
  }

  async get(target: Target, id: string, signal?: AbortSignal): Promise<InvalidationState> {
    const options = { abortSignal: signal };
    const out = target.tenantId
      ? await this.client.send(new GetInvalidationForDistributionTenantCommand({ DistributionTenantId: target.tenantId, Id: id }), options)
      : await this.client.send(new GetInvalidationCommand({ DistributionId: target.distributionId, Id: id }), options);
    return toState(out.Invalidation);
  }

  async list(target: Target, pages: number, signal?: AbortSignal, untilCompleted = false): Promise<InvalidationSummary[]> {
    const found: InvalidationSummary[] = [];
    let marker: string | undefined;
    for (let page = 0; page < pages; page++) {
      let list: InvalidationList | undefined;
      const request = { Marker: marker, MaxItems: 100 };
      const options = { abortSignal: signal };
      list = target.tenantId
        ? (await this.client.send(new ListInvalidationsForDistributionTenantCommand({ Id: target.tenantId, ...request }), options)).InvalidationList
        : (await this.client.send(new ListInvalidationsCommand({ DistributionId: target.distributionId, ...request }), options)).InvalidationList;
      for (const item of list?.Items ?? []) {
        if (item.Id && item.Status) {
          found.push({ id: item.Id, status: item.Status });
        }
      }
      if (!list?.IsTruncated || !list.NextMarker || (untilCompleted && found[found.length - 1]?.status === 'Completed')) {
        break;
      }
      marker = list.NextMarker;
    }
    return found;
  }

  async waitCompleted(target: Target, id: string, maxWaitSeconds: number, signal?: AbortSignal): Promise<boolean> {
    const config = {
      client: this.client,
      maxWaitTime: maxWaitSeconds,
      minDelay: WAIT_MIN_DELAY_SECONDS,
      maxDelay: WAIT_MAX_DELAY_SECONDS,
      abortSignal: signal,
    };
    try {
      if (target.tenantId) {
        await waitUntilInvalidationForDistributionTenantCompleted(config, { DistributionTenantId: target.tenantId, Id: id });
      } else {
        await waitUntilInvalidationCompleted(config, { DistributionId: target.distributionId, Id: id });
      }
      return true;
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        return false;
      }
      throw e;
    }
  }
}

function toState(invalidation: Invalidation | undefined): InvalidationState {
  if (!invalidation?.Id || !invalidation.Status) {
    throw new Error('CloudFront answered without an invalidation id or status');
  }
  return {
    id: invalidation.Id,
    status: invalidation.Status,
    paths: invalidation.InvalidationBatch?.Paths?.Items,
    callerReference: invalidation.InvalidationBatch?.CallerReference,
    createTime: invalidation.CreateTime?.getTime(),
  };
}
