/**
 * Recalling the invalidations an earlier request made for the inputs now deployed, so that an
 * Update that changes nothing, or a rollback's, answers the ids the resource already had.
 */
import { describeError } from './errors';
import type { Recall } from './plan';
import type { Runtime } from './runtime';

/** Newest invalidations read when recalling the ids an earlier request got for the same inputs. */
export const RECALL_LOOKUPS = 10;

export interface Recalled {
  /** Comma-separated ids in batch order; empty when none was found. */
  readonly ids: string;
  /** Their CallerReference without the batch number; empty when none was found. */
  readonly callerReference: string;
}

export const NOTHING_RECALLED: Recalled = { ids: '', callerReference: '' };

/**
 * The invalidations the most recent earlier request with the same inputs made (their CallerReference
 * starts with the same prefix), among the newest few of the target; nothing when none is found or
 * CloudFront cannot be read.
 */
export async function recall(rt: Runtime, sought: Recall, until: number): Promise<Recalled> {
  const signal = rt.signalAt(until);
  try {
    const newest = (await rt.api.list(sought.target, 1, signal)).slice(0, RECALL_LOOKUPS);
    const batches: Array<{ id: string; reference: string }> = [];
    for (const summary of newest) {
      const state = await rt.api.get(sought.target, summary.id, signal);
      const reference = state.callerReference ?? '';
      if (reference.startsWith(`${sought.prefix}-`) && (batches.length === 0 || base(reference) === base(batches[0].reference))) {
        batches.push({ id: state.id, reference });
      } else if (batches.length > 0) {
        break;
      }
    }
    batches.sort((a, b) => batchNumber(a.reference) - batchNumber(b.reference));
    rt.log('recalled earlier invalidations', { found: batches.length });
    return { ids: batches.map((b) => b.id).join(','), callerReference: batches.length ? base(batches[0].reference) : '' };
  } catch (e) {
    rt.log('could not recall earlier invalidations', { error: describeError(e) });
    return NOTHING_RECALLED;
  }
}

/** A batch's CallerReference without its batch number. */
function base(reference: string): string {
  return reference.replace(/-\d+$/, '');
}

function batchNumber(reference: string): number {
  return Number(/-(\d+)$/.exec(reference)?.[1] ?? 0);
}
