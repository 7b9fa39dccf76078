/**
 * The HTTP server every stand-in listens with: on 127.0.0.1 at a free port, its base URL for the
 * service's AWS_ENDPOINT_URL_* variable, and closed with every connection dropped; and `listening`,
 * which each stand-in's `start` hands its new self to.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

/** An HTTP server on 127.0.0.1 that hands each request to one handler. */
export class LocalServer {
  private readonly server: http.Server;

  public constructor(handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) {
    this.server = http.createServer((req, res) => void handle(req, res));
  }

  /** Starts listening on a free port. */
  public async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The base URL. */
  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops listening, dropping open connections. */
  public async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Starts a new stand-in's server listening, and gives the stand-in once it does: the `start` of
 * every stand-in that serves an API. `serverOf` reads the stand-in's own (private) server.
 */
export async function listening<T>(standIn: T, serverOf: (standIn: T) => LocalServer): Promise<T> {
  await serverOf(standIn).listen();
  return standIn;
}

/** The whole body of a request. */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) {
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
