/**
 * A CloudFront stand-in on 127.0.0.1 speaking the REST-XML invalidation API the way CloudFront does
 * (see docs/cloudfront.md): status codes, error bodies, CallerReference idempotency, in-progress
 * limits, InProgress to Completed after a delay, distribution tenants, and faults on demand.
 * The real `@aws-sdk/client-cloudfront` talks to it through AWS_ENDPOINT_URL_CLOUDFRONT.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { CloudFrontApiError, cloudFrontError } from './cloudfront-errors';
import { LocalServer, readBody } from './local-server';
import { Prng } from './prng';

const NAMESPACE = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
const MAX_PATHS_PER_REQUEST = 3000;
const MAX_PATHS_IN_PROGRESS = 3000;
const MAX_WILDCARDS_IN_PROGRESS = 15;

export type Operation = 'CreateInvalidation' | 'GetInvalidation' | 'ListInvalidations';
/** What CloudFront refuses raw in a path: it wants them percent-encoded. */
const UNSAFE_RAW = /[\u0000-\u0020"<>#{}|\\^~[\]`\u007f-\uffff]|%(?![0-9A-Fa-f]{2})/;

/** Every fault the emulator can inject: the list that defines `FaultKind`. */
export const FAULT_KINDS = ['Throttling', 'ServiceUnavailable', 'TooManyInvalidationsInProgress', 'Slow', 'LostResponse', 'Malformed'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The faults picked from when `FaultOptions.kinds` is not given: all but Malformed. */
export const DEFAULT_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'Malformed');

export interface FaultOptions {
  /** Share of requests that get a fault, 0 to 1. */
  readonly rate: number;
  /** Seed of the generator that picks which requests and which fault. */
  readonly seed: number;
  /**
   * Faults to pick from. LostResponse creates the invalidation, then answers 503; Malformed answers
   * 200 with a body that is not XML. @default all but Malformed
   */
  readonly kinds?: readonly FaultKind[];
  /** Operations that may get faults. @default all */
  readonly operations?: readonly Operation[];
  /** How long a Slow answer takes. @default 1500 */
  readonly slowMs?: number;
}

export interface CloudFrontEmulatorOptions {
  /** How long an invalidation stays InProgress, in ms, or a function of it. @default 0 */
  readonly completionDelayMs?: number | ((paths: readonly string[]) => number);
  /** The clock. @default Date.now */
  readonly now?: () => number;
  readonly faults?: FaultOptions;
  /**
   * IAM: whether the caller may perform `cloudfront:<action>` on the ARN. Denied requests get
   * AccessDenied as CloudFront words it. @default everything allowed
   */
  readonly authorize?: (action: string, resourceArn: string) => boolean;
  readonly accountId?: string;
  /**
   * Gives each request its place in a sequence shared with other recorders, so that events
   * elsewhere can be ordered against it. @default the emulator's own request count
   */
  readonly sequence?: () => number;
}

export interface EmulatedInvalidation {
  readonly id: string;
  readonly distributionId: string;
  readonly tenantId?: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly createdAt: number;
  /** The creating request's place in the sequence (see `sequence`). */
  readonly createdAtRequest: number;
  completesAt: number;
}

export interface RecordedRequest {
  /** Place in the sequence (by default 1-based position among every request received). */
  readonly seq: number;
  readonly at: number;
  readonly operation: Operation | 'Unknown';
  readonly distributionId?: string;
  readonly tenantId?: string;
  readonly callerReference?: string;
  readonly pathCount?: number;
  readonly status: number;
  readonly errorCode?: string;
  readonly fault?: FaultKind;
  /** The invalidation this request created (CreateInvalidation that made a new one). */
  readonly created?: string;
  /** The invalidation this request returned. */
  readonly invalidationId?: string;
}

interface Distribution {
  readonly id: string;
  readonly cacheTags: boolean;
  deleted: boolean;
}

interface Route {
  readonly operation: Operation;
  readonly distributionId?: string;
  readonly tenantId?: string;
  readonly invalidationId?: string;
}

export class CloudFrontEmulator {
  public static async start(options: CloudFrontEmulatorOptions = {}): Promise<CloudFrontEmulator> {
    const emulator = new CloudFrontEmulator(options);
    await emulator.server.listen();
    return emulator;
  }

  /** Every request, in the order received. */
  public readonly requests: RecordedRequest[] = [];
  /** Most wildcard and other paths ever in progress at once per distribution, as seen at each create. */
  public readonly peaks = new Map<string, { wildcards: number; paths: number }>();
  private readonly server: LocalServer;
  private readonly distributions = new Map<string, Distribution>();
  private readonly tenants = new Map<string, string>();
  private readonly invalidationsById = new Map<string, EmulatedInvalidation>();
  private readonly invalidationsByTarget = new Map<string, EmulatedInvalidation[]>();
  private readonly parser = new XMLParser({ parseTagValue: false, trimValues: false, isArray: (name) => name === 'Path' });
  private readonly ids: Prng;
  private faults: FaultOptions | undefined;
  private faultPrng: Prng | undefined;
  private scripted: Array<{ operation: Operation; kind: FaultKind }> = [];
  private readonly listeners: Array<(request: RecordedRequest) => void> = [];
  private readonly now: () => number;

  private constructor(private readonly options: CloudFrontEmulatorOptions) {
    this.now = options.now ?? Date.now;
    this.ids = new Prng(0xc10d);
    this.setFaults(options.faults);
    this.server = new LocalServer((req, res) => this.handle(req, res));
  }

  /** The base URL, for AWS_ENDPOINT_URL_CLOUDFRONT. */
  public get endpoint(): string {
    return this.server.endpoint;
  }

  public get accountId(): string {
    return this.options.accountId ?? '123456789012';
  }

  /** Adds a distribution and returns its id. */
  public addDistribution(options: { id?: string; cacheTags?: boolean } = {}): string {
    const id = options.id ?? `E${this.ids.alphanumeric(13)}`;
    this.distributions.set(id, { id, cacheTags: options.cacheTags ?? false, deleted: false });
    return id;
  }

  /** Deletes a distribution: its operations answer NoSuchDistribution from now on. */
  public deleteDistribution(id: string): void {
    const d = this.distributions.get(id);
    if (d) {
      d.deleted = true;
    }
  }

  /** Whether the distribution exists (and was not deleted). */
  public hasDistribution(id: string): boolean {
    return this.distributions.get(id)?.deleted === false;
  }

  /** Adds a tenant of a distribution and returns its id. */
  public addTenant(distributionId: string, id = `dt_${this.ids.alphanumeric(27)}`): string {
    this.tenants.set(id, distributionId);
    return id;
  }

  /** Invalidations of a distribution (or of one of its tenants), oldest first. */
  public invalidations(distributionId?: string, tenantId?: string): EmulatedInvalidation[] {
    const all = [...this.invalidationsById.values()];
    return all.filter((i) => (distributionId === undefined || i.distributionId === distributionId)
      && (tenantId === undefined || i.tenantId === tenantId));
  }

  public status(invalidation: EmulatedInvalidation): 'InProgress' | 'Completed' {
    return this.now() >= invalidation.completesAt ? 'Completed' : 'InProgress';
  }

  /** Marks invalidations Completed now (all of them by default). */
  public complete(ids?: string[]): void {
    for (const inv of this.invalidationsById.values()) {
      if (!ids || ids.includes(inv.id)) {
        inv.completesAt = Math.min(inv.completesAt, this.now());
      }
    }
  }

  /** Keeps invalidations InProgress until `complete` is called (or for `ms`). */
  public holdInProgress(ms = Number.POSITIVE_INFINITY): void {
    for (const inv of this.invalidationsById.values()) {
      inv.completesAt = this.now() + ms;
    }
  }

  /** Creates an invalidation as someone else would, outside any test subject. */
  public seedInvalidation(distributionId: string, paths: string[], completesInMs = Number.POSITIVE_INFINITY): EmulatedInvalidation {
    return this.store(distributionId, undefined, `seed-${randomUUID()}`, paths, completesInMs);
  }

  /** Random faults from now on (undefined: none). */
  public setFaults(faults: FaultOptions | undefined): void {
    this.faults = faults;
    this.faultPrng = faults ? new Prng(faults.seed) : undefined;
  }

  /** Faults for the next matching requests, in order, on top of the random ones. */
  public failNext(operation: Operation, ...kinds: FaultKind[]): void {
    this.scripted.push(...kinds.map((kind) => ({ operation, kind })));
  }

  /** Called with every request once it is handled, just before its response goes out (so a test can act in between). */
  public onRequest(listener: (request: RecordedRequest) => void): void {
    this.listeners.push(listener);
  }

  public async close(): Promise<void> {
    await this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const seq = this.options.sequence?.() ?? this.requests.length + 1;
    const body = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = this.route(req.method ?? 'GET', url.pathname);
    const record: { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] } = { seq, at: this.now(), operation: route?.operation ?? 'Unknown', status: 0 };
    this.requests.push(record);
    const requestId = randomUUID();
    let status = 200;
    let payload: string;
    const headers: Record<string, string> = { 'x-amzn-RequestId': requestId, 'content-type': 'text/xml' };
    try {
      if (!route) {
        throw cloudFrontError('NotFound', 'noRoute', { method: String(req.method), path: url.pathname });
      }
      record.distributionId = route.distributionId;
      record.tenantId = route.tenantId;
      if (!String(req.headers.authorization ?? '').includes('/cloudfront/aws4_request')) {
        throw cloudFrontError('MissingAuthenticationToken', 'unsigned');
      }
      const fault = this.pickFault(route.operation);
      record.fault = fault;
      if (fault === 'Slow') {
        // Answers late, or not at all once the caller has given up (nothing is left waiting then).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.faults?.slowMs ?? 1500);
          res.once('close', () => clearTimeout(timer));
        });
      } else if (fault === 'Throttling') {
        throw cloudFrontError('Throttling', 'rateExceeded');
      } else if (fault === 'ServiceUnavailable') {
        throw cloudFrontError('ServiceUnavailable', 'internal');
      } else if (fault === 'TooManyInvalidationsInProgress') {
        throw cloudFrontError('TooManyInvalidationsInProgress', 'wildcards');
      }
      this.authorize(route);
      const result = this.perform(route, url, body, record);
      status = result.status;
      payload = result.xml;
      if (result.location) {
        headers.Location = `${this.endpoint}${url.pathname}/${result.location}`;
      }
      if (fault === 'LostResponse') {
        throw cloudFrontError('ServiceUnavailable', 'internal');
      }
      if (fault === 'Malformed') {
        status = 200;
        payload = '<html><body>upstream proxy error</body>';
      }
    } catch (e) {
      const err = e instanceof CloudFrontApiError ? e : cloudFrontError('InternalError', 'emulatorBug', { error: String(e) });
      status = err.status;
      record.errorCode = err.code;
      payload = this.xml({ ErrorResponse: { '@_xmlns': NAMESPACE, 'Error': { Type: err.type, Code: err.code, Message: err.message }, 'RequestId': requestId } });
    }
    record.status = status;
    this.listeners.forEach((l) => l(record));
    res.writeHead(status, headers);
    res.end(payload);
  }

  private route(method: string, pathname: string): Route | undefined {
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

  private pickFault(operation: Operation): FaultKind | undefined {
    const i = this.scripted.findIndex((s) => s.operation === operation);
    if (i !== -1) {
      return this.scripted.splice(i, 1)[0].kind;
    }
    const f = this.faults;
    if (!f || !this.faultPrng || (f.operations && !f.operations.includes(operation))) {
      return undefined;
    }
    if (this.faultPrng.next() >= f.rate) {
      return undefined;
    }
    const kinds = (f.kinds ?? DEFAULT_FAULT_KINDS)
      .filter((k) => operation === 'CreateInvalidation' || (k !== 'TooManyInvalidationsInProgress' && k !== 'LostResponse'));
    return kinds.length === 0 ? undefined : kinds[Math.floor(this.faultPrng.next() * kinds.length)];
  }

  private authorize(route: { operation: Operation; distributionId?: string; tenantId?: string }): void {
    if (!this.options.authorize) {
      return;
    }
    const action = route.tenantId ? `cloudfront:${route.operation.replace(/Invalidations?$/, (s) => `${s}ForDistributionTenant`)}` : `cloudfront:${route.operation}`;
    const arn = route.tenantId
      ? `arn:aws:cloudfront::${this.accountId}:distribution-tenant/${route.tenantId}`
      : `arn:aws:cloudfront::${this.accountId}:distribution/${route.distributionId}`;
    if (!this.options.authorize(action, arn)) {
      throw cloudFrontError('AccessDenied', 'notAuthorized', { account: this.accountId, action, resource: arn });
    }
  }

  private perform(
    route: Route,
    url: URL,
    body: string,
    record: { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] },
  ): { status: number; xml: string; location?: string } {
    const distributionId = this.resolveTarget(route);
    record.distributionId = distributionId;
    const key = targetKey(distributionId, route.tenantId);
    switch (route.operation) {
      case 'CreateInvalidation': {
        const batch = this.parseBatch(body);
        record.callerReference = batch.callerReference;
        record.pathCount = batch.paths.length;
        const existing = (this.invalidationsByTarget.get(key) ?? []).find((i) => i.callerReference === batch.callerReference);
        if (existing) {
          if (!sameItems(existing.paths, batch.paths)) {
            throw cloudFrontError('InvalidArgument', 'callerReferenceReused');
          }
          record.invalidationId = existing.id;
          return { status: 201, xml: this.invalidationXml(existing), location: existing.id };
        }
        this.validatePaths(distributionId, batch.paths);
        this.checkLimits(distributionId, batch.paths);
        const created = this.store(distributionId, route.tenantId, batch.callerReference, batch.paths, this.delayFor(batch.paths), record.seq);
        record.created = created.id;
        record.invalidationId = created.id;
        return { status: 201, xml: this.invalidationXml(created), location: created.id };
      }
      case 'GetInvalidation': {
        const inv = this.invalidationsById.get(route.invalidationId!);
        if (!inv || targetKey(inv.distributionId, inv.tenantId) !== key) {
          throw cloudFrontError('NoSuchInvalidation', 'unknown');
        }
        record.invalidationId = inv.id;
        return { status: 200, xml: this.invalidationXml(inv) };
      }
      case 'ListInvalidations': {
        const all = [...(this.invalidationsByTarget.get(key) ?? [])].reverse();
        const maxItems = Math.min(100, Math.max(1, Number(url.searchParams.get('MaxItems') ?? 100) || 100));
        const marker = url.searchParams.get('Marker') ?? '';
        const start = marker ? all.findIndex((i) => i.id === marker) + 1 : 0;
        const page = all.slice(start, start + maxItems);
        const truncated = start + maxItems < all.length;
        const list: Record<string, unknown> = {
          '@_xmlns': NAMESPACE,
          'Marker': marker,
          ...(truncated ? { NextMarker: page[page.length - 1].id } : {}),
          'MaxItems': maxItems,
          'IsTruncated': truncated,
          'Quantity': page.length,
        };
        if (page.length > 0) {
          const summary = (i: EmulatedInvalidation) => ({ Id: i.id, CreateTime: new Date(i.createdAt).toISOString(), Status: this.status(i) });
          list.Items = { InvalidationSummary: page.map(summary) };
        }
        return { status: 200, xml: this.xml({ InvalidationList: list }) };
      }
    }
  }

  private resolveTarget(route: { distributionId?: string; tenantId?: string }): string {
    if (route.tenantId) {
      const distributionId = this.tenants.get(route.tenantId);
      if (!distributionId || this.distributions.get(distributionId)?.deleted) {
        throw cloudFrontError('EntityNotFound', 'unknownTenant', { tenant: route.tenantId });
      }
      return distributionId;
    }
    const d = this.distributions.get(route.distributionId!);
    if (!d || d.deleted) {
      throw cloudFrontError('NoSuchDistribution', 'unknown');
    }
    return d.id;
  }

  private parseBatch(body: string): { callerReference: string; paths: string[] } {
    if (body.trim() === '') {
      throw cloudFrontError('MissingBody', 'emptyBody');
    }
    let doc: { InvalidationBatch?: { CallerReference?: string; Paths?: { Quantity?: string; Items?: { Path?: string[] } | string } } };
    try {
      doc = this.parser.parse(body, true);
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

  private validatePaths(distributionId: string, paths: readonly string[]): void {
    const cacheTags = this.distributions.get(distributionId)?.cacheTags ?? false;
    const valid = (p: string) => {
      if (p.startsWith('#')) {
        return cacheTags && p.length > 1 && p.length <= 257 && /^#[\x21-\x2b\x2d-\x7e]+$/.test(p) && !p.includes('*');
      }
      // Raw characters outside printable ASCII, RFC 1738's unsafe ones and a '%' that starts no
      // escape are refused (docs/cloudfront.md, "Limits and paths"; users report it for '[' and ']').
      return p.startsWith('/') && p.length <= 4000 && !p.slice(0, -1).includes('*') && !UNSAFE_RAW.test(p);
    };
    if (!paths.every(valid)) {
      throw cloudFrontError('InvalidArgument', 'invalidPaths');
    }
    const wildcards = paths.filter((p) => p.endsWith('*')).length;
    if (paths.length > MAX_PATHS_PER_REQUEST || wildcards > MAX_WILDCARDS_IN_PROGRESS || paths.length - wildcards > MAX_PATHS_IN_PROGRESS) {
      throw cloudFrontError('BatchTooLarge', 'tooLarge');
    }
  }

  private checkLimits(distributionId: string, paths: readonly string[]): void {
    let wildcards = 0;
    let others = 0;
    for (const inv of this.invalidationsById.values()) {
      if (inv.distributionId === distributionId && this.status(inv) === 'InProgress') {
        for (const p of inv.paths) {
          if (p.endsWith('*')) {
            wildcards++;
          } else {
            others++;
          }
        }
      }
    }
    const newWildcards = paths.filter((p) => p.endsWith('*')).length;
    const newOthers = paths.length - newWildcards;
    if (wildcards + newWildcards > MAX_WILDCARDS_IN_PROGRESS) {
      throw cloudFrontError('TooManyInvalidationsInProgress', 'wildcards');
    }
    if (others + newOthers > MAX_PATHS_IN_PROGRESS) {
      throw cloudFrontError('TooManyInvalidationsInProgress', 'paths');
    }
    const peak = this.peaks.get(distributionId) ?? { wildcards: 0, paths: 0 };
    this.peaks.set(distributionId, {
      wildcards: Math.max(peak.wildcards, wildcards + newWildcards),
      paths: Math.max(peak.paths, others + newOthers),
    });
  }

  private delayFor(paths: readonly string[]): number {
    const d = this.options.completionDelayMs ?? 0;
    return typeof d === 'function' ? d(paths) : d;
  }

  private store(
    distributionId: string, tenantId: string | undefined, callerReference: string, paths: readonly string[], delayMs: number, seq = 0,
  ): EmulatedInvalidation {
    const createdAt = this.now();
    const inv: EmulatedInvalidation = {
      id: `I${this.ids.alphanumeric(13)}`,
      distributionId,
      tenantId,
      callerReference,
      paths: [...paths],
      createdAt,
      createdAtRequest: seq,
      completesAt: createdAt + delayMs,
    };
    this.invalidationsById.set(inv.id, inv);
    const key = targetKey(distributionId, tenantId);
    this.invalidationsByTarget.set(key, [...(this.invalidationsByTarget.get(key) ?? []), inv]);
    return inv;
  }

  private invalidationXml(inv: EmulatedInvalidation): string {
    return this.xml({
      Invalidation: {
        '@_xmlns': NAMESPACE,
        'Id': inv.id,
        'Status': this.status(inv),
        'CreateTime': new Date(inv.createdAt).toISOString(),
        'InvalidationBatch': {
          // CloudFront does not promise to keep the order of the paths.
          Paths: { Quantity: inv.paths.length, Items: { Path: [...inv.paths].reverse() } },
          CallerReference: inv.callerReference,
        },
      },
    });
  }

  private xml(doc: Record<string, unknown>): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' }).build(doc)}`;
  }
}

function targetKey(distributionId: string, tenantId?: string): string {
  return tenantId ? `${distributionId}/${tenantId}` : distributionId;
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
