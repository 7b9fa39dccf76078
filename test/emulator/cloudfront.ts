/**
 * A CloudFront stand-in on 127.0.0.1 speaking the REST-XML invalidation API the way CloudFront does
 * (see docs/cloudfront.md): status codes, error bodies, CallerReference idempotency, in-progress
 * limits, InProgress to Completed after a delay, distribution tenants, and faults on demand.
 * The real `@aws-sdk/client-cloudfront` talks to it through AWS_ENDPOINT_URL_CLOUDFRONT.
 *
 * This file holds the emulator's state and the operations that read and change it, with the
 * documented types its users read, in one place (it runs past 300 lines for that); the wire format,
 * the limits, the faults and the errors are in the cloudfront-*.ts modules beside it.
 */
import { randomUUID } from 'crypto';
import type * as http from 'http';
import { CloudFrontApiError, cloudFrontError } from './cloudfront-errors';
import type { FaultKind, FaultOptions, Operation } from './cloudfront-faults';
import { FaultPicker } from './cloudfront-faults';
import { checkInProgressLimits, validatePaths } from './cloudfront-limits';
import type { InvalidationView, Route } from './cloudfront-wire';
import { errorXml, invalidationListXml, invalidationXml, parseInvalidationBatch, routeOf } from './cloudfront-wire';
import { listening, LocalServer, readBody } from './local-server';
import { Prng } from './prng';

/** How the CloudFront stand-in behaves: completion delay, clock, faults, IAM, account, request sequence. */
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

export class CloudFrontEmulator {
  public static async start(options: CloudFrontEmulatorOptions = {}): Promise<CloudFrontEmulator> {
    return listening(new CloudFrontEmulator(options), (emulator) => emulator.server);
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
  private readonly ids: Prng;
  private readonly faults = new FaultPicker();
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
    for (const invalidation of this.invalidationsById.values()) {
      if (!ids || ids.includes(invalidation.id)) {
        invalidation.completesAt = Math.min(invalidation.completesAt, this.now());
      }
    }
  }

  /** Keeps invalidations InProgress until `complete` is called (or for `ms`). */
  public holdInProgress(ms = Number.POSITIVE_INFINITY): void {
    for (const invalidation of this.invalidationsById.values()) {
      invalidation.completesAt = this.now() + ms;
    }
  }

  /** Creates an invalidation as someone else would, outside any test subject. */
  public seedInvalidation(distributionId: string, paths: string[], completesInMs = Number.POSITIVE_INFINITY): EmulatedInvalidation {
    return this.store(distributionId, undefined, `seed-${randomUUID()}`, paths, completesInMs);
  }

  /** Random faults from now on (undefined: none). */
  public setFaults(faults: FaultOptions | undefined): void {
    this.faults.set(faults);
  }

  /** Faults for the next matching requests, in order, on top of the random ones. */
  public failNext(operation: Operation, ...kinds: FaultKind[]): void {
    this.faults.failNext(operation, kinds);
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
    const route = routeOf(req.method ?? 'GET', url.pathname);
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
      const fault = this.faults.pick(route.operation);
      record.fault = fault;
      if (fault === 'Slow') {
        // Answers late, or not at all once the caller has given up (nothing is left waiting then).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.faults.options?.slowMs ?? 1500);
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
      payload = errorXml(err, requestId);
    }
    record.status = status;
    this.listeners.forEach((l) => l(record));
    res.writeHead(status, headers);
    res.end(payload);
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
        const batch = parseInvalidationBatch(body);
        record.callerReference = batch.callerReference;
        record.pathCount = batch.paths.length;
        const existing = (this.invalidationsByTarget.get(key) ?? []).find((i) => i.callerReference === batch.callerReference);
        if (existing) {
          if (!sameItems(existing.paths, batch.paths)) {
            throw cloudFrontError('InvalidArgument', 'callerReferenceReused');
          }
          record.invalidationId = existing.id;
          return { status: 201, xml: invalidationXml(this.view(existing)), location: existing.id };
        }
        validatePaths(batch.paths, this.distributions.get(distributionId)?.cacheTags ?? false);
        this.checkLimits(distributionId, batch.paths);
        const created = this.store(distributionId, route.tenantId, batch.callerReference, batch.paths, this.delayFor(batch.paths), record.seq);
        record.created = created.id;
        record.invalidationId = created.id;
        return { status: 201, xml: invalidationXml(this.view(created)), location: created.id };
      }
      case 'GetInvalidation': {
        const invalidation = this.invalidationsById.get(route.invalidationId!);
        if (!invalidation || targetKey(invalidation.distributionId, invalidation.tenantId) !== key) {
          throw cloudFrontError('NoSuchInvalidation', 'unknown');
        }
        record.invalidationId = invalidation.id;
        return { status: 200, xml: invalidationXml(this.view(invalidation)) };
      }
      case 'ListInvalidations': {
        const all = [...(this.invalidationsByTarget.get(key) ?? [])].reverse();
        const askedFor = url.searchParams.get('MaxItems');
        if (askedFor !== null && !(Number.isInteger(Number(askedFor)) && Number(askedFor) >= 1)) {
          throw cloudFrontError('InvalidArgument', 'invalidMaxItems', { maxItems: askedFor });
        }
        const maxItems = Math.min(100, askedFor === null ? 100 : Number(askedFor));
        const marker = url.searchParams.get('Marker') ?? '';
        const after = marker ? all.findIndex((i) => i.id === marker) : -1;
        if (marker && after < 0) {
          throw cloudFrontError('InvalidArgument', 'unknownMarker', { marker });
        }
        const start = after + 1;
        const page = all.slice(start, start + maxItems);
        const truncated = start + maxItems < all.length;
        return { status: 200, xml: invalidationListXml(page.map((i) => this.view(i)), { marker, maxItems, truncated }) };
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

  /** Refuses paths past the distribution's in-progress limits, and keeps the peaks of what is in progress. */
  private checkLimits(distributionId: string, paths: readonly string[]): void {
    const inProgress = [...this.invalidationsById.values()]
      .filter((invalidation) => invalidation.distributionId === distributionId && this.status(invalidation) === 'InProgress')
      .flatMap((invalidation) => invalidation.paths);
    const count = checkInProgressLimits(inProgress, paths);
    const peak = this.peaks.get(distributionId) ?? { wildcards: 0, paths: 0 };
    this.peaks.set(distributionId, { wildcards: Math.max(peak.wildcards, count.wildcards), paths: Math.max(peak.paths, count.paths) });
  }

  private delayFor(paths: readonly string[]): number {
    const d = this.options.completionDelayMs ?? 0;
    return typeof d === 'function' ? d(paths) : d;
  }

  private store(
    distributionId: string, tenantId: string | undefined, callerReference: string, paths: readonly string[], delayMs: number, seq = 0,
  ): EmulatedInvalidation {
    const createdAt = this.now();
    const invalidation: EmulatedInvalidation = {
      id: `I${this.ids.alphanumeric(13)}`,
      distributionId,
      tenantId,
      callerReference,
      paths: [...paths],
      createdAt,
      createdAtRequest: seq,
      completesAt: createdAt + delayMs,
    };
    this.invalidationsById.set(invalidation.id, invalidation);
    const key = targetKey(distributionId, tenantId);
    this.invalidationsByTarget.set(key, [...(this.invalidationsByTarget.get(key) ?? []), invalidation]);
    return invalidation;
  }

  /** An invalidation as the wire shows it, with its status now. */
  private view(invalidation: EmulatedInvalidation): InvalidationView {
    return { ...invalidation, status: this.status(invalidation) };
  }
}

function targetKey(distributionId: string, tenantId?: string): string {
  return tenantId ? `${distributionId}/${tenantId}` : distributionId;
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
