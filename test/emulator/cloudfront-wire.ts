/**
 * CloudFront's REST-XML wire format for the invalidation API (version 2020-05-31): the routes, the
 * InvalidationBatch a CreateInvalidation sends, and the Invalidation, InvalidationList and
 * ErrorResponse documents it answers.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { cloudFrontError } from './cloudfront-errors';
import type { Operation } from './cloudfront-faults';

const NAMESPACE = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';

/** A request's operation and the ids its path names. */
export interface Route {
  readonly operation: Operation;
  readonly distributionId?: string;
  readonly tenantId?: string;
  readonly invalidationId?: string;
}

/** An invalidation as the wire shows it. */
export interface InvalidationView {
  readonly id: string;
  readonly status: 'InProgress' | 'Completed';
  readonly createdAt: number;
  readonly paths: readonly string[];
  readonly callerReference: string;
}

/** The operation a method and path name, with its ids; undefined for no route. */
export function routeOf(method: string, pathname: string): Route | undefined {
  const m = /^\/2020-05-31\/(distribution|distribution-tenant)\/([^/]+)\/invalidation(?:\/([^/]+))?$/.exec(pathname);
  if (!m) {
    return undefined;
  }
  const [, kind, id, invalidationId] = m;
  const ids = kind === 'distribution' ? { distributionId: decodeURIComponent(id) } : { tenantId: decodeURIComponent(id) };
  if (method === 'POST' && !invalidationId) {
    return { operation: 'CreateInvalidation', ...ids };
  }
  if (method === 'GET' && invalidationId) {
    return { operation: 'GetInvalidation', ...ids, invalidationId: decodeURIComponent(invalidationId) };
  }
  if (method === 'GET') {
    return { operation: 'ListInvalidations', ...ids };
  }
  return undefined;
}

const parser = new XMLParser({ parseTagValue: false, trimValues: false, isArray: (name) => name === 'Path' });

/** The CallerReference and paths of a CreateInvalidation's body, refused as CloudFront refuses a bad one. */
export function parseInvalidationBatch(body: string): { callerReference: string; paths: string[] } {
  if (body.trim() === '') {
    throw cloudFrontError('MissingBody', 'emptyBody');
  }
  let doc: { InvalidationBatch?: { CallerReference?: string; Paths?: { Quantity?: string; Items?: { Path?: string[] } | string } } };
  try {
    doc = parser.parse(body, true);
  } catch {
    throw cloudFrontError('MalformedXML', 'notWellFormed');
  }
  const batch = doc.InvalidationBatch;
  const callerReference = batch?.CallerReference;
  const quantity = Number(batch?.Paths?.Quantity);
  if (!batch || typeof callerReference !== 'string' || callerReference === '' || !Number.isInteger(quantity)) {
    throw cloudFrontError('MalformedXML', 'notWellFormed');
  }
  const items = batch.Paths?.Items;
  const paths = typeof items === 'object' && items ? (items.Path ?? []).map(String) : [];
  if (paths.length !== quantity) {
    throw cloudFrontError('InconsistentQuantities', 'mismatch');
  }
  if (quantity === 0) {
    throw cloudFrontError('InvalidArgument', 'invalidPaths');
  }
  return { callerReference, paths };
}

/** The Invalidation document CreateInvalidation and GetInvalidation answer. */
export function invalidationXml(invalidation: InvalidationView): string {
  return xml({
    Invalidation: {
      '@_xmlns': NAMESPACE,
      'Id': invalidation.id,
      'Status': invalidation.status,
      'CreateTime': new Date(invalidation.createdAt).toISOString(),
      'InvalidationBatch': {
        // CloudFront does not promise to keep the order of the paths.
        Paths: { Quantity: invalidation.paths.length, Items: { Path: [...invalidation.paths].reverse() } },
        CallerReference: invalidation.callerReference,
      },
    },
  });
}

/** The InvalidationList document ListInvalidations answers: one page, newest first, after the marker. */
export function invalidationListXml(
  page: readonly InvalidationView[], paging: { readonly marker: string; readonly maxItems: number; readonly truncated: boolean },
): string {
  const { marker, maxItems, truncated } = paging;
  const list: Record<string, unknown> = {
    '@_xmlns': NAMESPACE,
    'Marker': marker,
    ...(truncated ? { NextMarker: page[page.length - 1].id } : {}),
    'MaxItems': maxItems,
    'IsTruncated': truncated,
    'Quantity': page.length,
  };
  if (page.length > 0) {
    const summary = (i: InvalidationView) => ({ Id: i.id, CreateTime: new Date(i.createdAt).toISOString(), Status: i.status });
    list.Items = { InvalidationSummary: page.map(summary) };
  }
  return xml({ InvalidationList: list });
}

/** The ErrorResponse document of an error. */
export function errorXml(error: { readonly type: string; readonly code: string; readonly message: string }, requestId: string): string {
  return xml({ ErrorResponse: { '@_xmlns': NAMESPACE, 'Error': { Type: error.type, Code: error.code, Message: error.message }, 'RequestId': requestId } });
}

function xml(doc: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' }).build(doc)}`;
}
