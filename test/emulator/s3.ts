/**
 * An S3 stand-in on 127.0.0.1 serving GetObject (and HeadObject) the way S3 does for the handler's
 * reads of the asset bucket. The real `@aws-sdk/client-s3` talks to it through AWS_ENDPOINT_URL_S3;
 * an IP address as endpoint makes the SDK address buckets path-style (`/<bucket>/<key>`).
 *
 * Facts modelled (Amazon S3 API Reference, GetObject; "Troubleshooting access denied (403 Forbidden)"):
 * - GetObject needs `s3:GetObject` on `arn:aws:s3:::<bucket>/<key>`; a denied caller gets 403
 *   `AccessDenied`.
 * - A key that does not exist is 404 `NoSuchKey` only for a caller allowed `s3:ListBucket` on the
 *   bucket; any other caller gets 403 `AccessDenied`, so that it cannot learn which keys exist.
 *   So a caller with GetObject alone cannot tell a missing object from a denied one.
 * - An unknown bucket is 404 `NoSuchBucket`.
 * - Errors are `<Error><Code/><Message/><Key/><RequestId/></Error>` with `x-amz-request-id`; HEAD
 *   errors have no body.
 */
import { createHash, randomUUID } from 'crypto';
import * as http from 'http';
import { listening, LocalServer, readBody } from './local-server';

export interface S3EmulatorOptions {
  /** IAM: whether the caller may perform `s3:<action>` on the ARN. @default everything allowed */
  readonly authorize?: (action: string, resourceArn: string) => boolean;
}

export interface S3Request {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly status: number;
  readonly code?: string;
}

interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: Date;
}

export class S3Emulator {
  public static async start(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
    return listening(new S3Emulator(options), (emulator) => emulator.server);
  }

  /** Every request received, in order. */
  public readonly requests: S3Request[] = [];
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly server: LocalServer;

  private constructor(private readonly options: S3EmulatorOptions) {
    this.server = new LocalServer((req, res) => this.handle(req, res));
  }

  public get endpoint(): string {
    return this.server.endpoint;
  }

  /** Puts an object, creating the bucket as needed (as `cdk deploy` publishes an asset). */
  public putObject(bucket: string, key: string, body: Buffer | string): void {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    let objects = this.buckets.get(bucket);
    if (!objects) {
      objects = new Map();
      this.buckets.set(bucket, objects);
    }
    objects.set(key, { body: data, etag: `"${createHash('md5').update(data).digest('hex')}"`, lastModified: new Date() });
  }

  /** Removes an object, as `cdk gc` removes assets no stack uses. */
  public deleteObject(bucket: string, key: string): void {
    this.buckets.get(bucket)?.delete(key);
  }

  public hasObject(bucket: string, key: string): boolean {
    return this.buckets.get(bucket)?.has(key) ?? false;
  }

  /** Keys of a bucket, sorted. */
  public keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }

  public async close(): Promise<void> {
    await this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The body of a GET or HEAD is ignored.
    await readBody(req);
    const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method ?? 'GET';
    const record = (status: number, code?: string) => this.requests.push({ method, bucket, key, status, code });
    const fail = (status: number, code: string, message: string) => {
      record(status, code);
      const body = method === 'HEAD' ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>`
        + `${key ? `<Key>${escapeXml(key)}</Key>` : ''}<RequestId>${requestId}</RequestId></Error>`;
      res.writeHead(status, { 'x-amz-request-id': requestId, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if ((method !== 'GET' && method !== 'HEAD') || !bucket || !key) {
      return fail(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    const objects = this.buckets.get(bucket);
    if (!objects) {
      return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');
    }
    const allowed = (action: string, arn: string) => this.options.authorize?.(action, arn) ?? true;
    if (!allowed('s3:GetObject', `arn:aws:s3:::${bucket}/${key}`)) {
      return fail(403, 'AccessDenied', 'Access Denied');
    }
    const object = objects.get(key);
    if (!object) {
      return allowed('s3:ListBucket', `arn:aws:s3:::${bucket}`)
        ? fail(404, 'NoSuchKey', 'The specified key does not exist.')
        : fail(403, 'AccessDenied', 'Access Denied');
    }
    record(200);
    res.writeHead(200, {
      'x-amz-request-id': requestId,
      'content-type': 'application/octet-stream',
      'content-length': object.body.length,
      'etag': object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
    });
    res.end(method === 'HEAD' ? undefined : object.body);
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
