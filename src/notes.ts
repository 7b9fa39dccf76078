/**
 * Info messages that a user can acknowledge by id, at every supported aws-cdk-lib version.
 *
 * aws-cdk-lib has `Annotations.addInfoV2(id, message)` and `acknowledgeInfo(id)` only in recent
 * releases; the floor (2.174.0) has `addInfo(message)` alone. A note goes through `addInfoV2` where
 * it exists, so `Annotations.of(scope).acknowledgeInfo(id)` silences it; at every version, the
 * context key `ACKNOWLEDGE_INFO_CONTEXT` silences it too, and the message ends with
 * `[ack: <id>]`, as `addInfoV2` writes it, so the id is in sight.
 */
import { Annotations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The context key that acknowledges notes: a list of ids, or a string of ids separated by commas or
 * spaces (`cdk synth -c cdk-cloudfront-invalidation:acknowledgeInfo=cdk-cloudfront-invalidation:cost`).
 * Set in cdk.json, on the command line, on the App, or with `node.setContext` on a stack (before
 * its first child), for everything under it.
 */
export const ACKNOWLEDGE_INFO_CONTEXT = 'cdk-cloudfront-invalidation:acknowledgeInfo';

/**
 * The context key that acknowledges warnings, as `ACKNOWLEDGE_INFO_CONTEXT` does notes: for aws-cdk-lib
 * releases whose `Annotations.acknowledgeWarning` misses a warning added on the construct it is
 * called on, or while the app is validated (the floor's looks at the construct's scopes only).
 */
export const ACKNOWLEDGE_WARNING_CONTEXT = 'cdk-cloudfront-invalidation:acknowledgeWarning';

/** Adds a warning with an id (`Annotations.acknowledgeWarning` silences it), unless the context acknowledges it. */
export function addWarning(scope: IConstruct, id: string, message: string): void {
  if (!acknowledgedIds(scope, ACKNOWLEDGE_WARNING_CONTEXT).includes(id)) {
    Annotations.of(scope).addWarningV2(id, message);
  }
}

/** `Annotations` of releases that have acknowledgeable info messages. */
interface AnnotationsWithInfoV2 {
  addInfoV2?(id: string, message: string): void;
}

/** Adds an info message with an id, unless the context acknowledges it. */
export function addNote(scope: IConstruct, id: string, message: string): void {
  if (acknowledgedIds(scope, ACKNOWLEDGE_INFO_CONTEXT).includes(id)) {
    return;
  }
  const annotations = Annotations.of(scope);
  const withInfoV2 = annotations as unknown as AnnotationsWithInfoV2;
  if (typeof withInfoV2.addInfoV2 === 'function') {
    withInfoV2.addInfoV2(id, message);
  } else {
    annotations.addInfo(`${message} [ack: ${id}]`);
  }
}

/** The ids the context acknowledges at `scope`. */
function acknowledgedIds(scope: IConstruct, key: string): string[] {
  const value: unknown = scope.node.tryGetContext(key);
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return items.map((item) => String(item).trim()).filter((item) => item !== '');
}
