/**
 * `InvalidationPaths.changedFiles` at synth: the per-file manifest of a BucketDeployment's local
 * sources, shipped as an asset of its own, and the path list token that tells an Invalidation to
 * purge only what changed.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { inflateRawSync } from 'zlib';
import { AssetStaging, FileSystem, Lazy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import type { IResolvable } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { bucketDeploymentResource } from './deployment';
import { renderResource } from './render';
import type { FileManifest } from './shared/file-manifest';
import { MANIFEST_EXTENSION, MANIFEST_FORMAT, renderManifest } from './shared/file-manifest';
import { MAX_PATHS_PER_REQUEST } from './shared/paths';

/** What `InvalidationPaths.changedFiles` was asked for. */
export interface ChangedFilesRequest {
  readonly deployment: s3deploy.BucketDeployment;
  /** The origin path, without slashes at either end. */
  readonly originPath: string;
  /** The viewer directory of the deployment, starting and ending with `/`. */
  readonly root: string;
  readonly indexDocument?: string;
  readonly maxPaths: number;
}

const requests = new WeakMap<IResolvable, ChangedFilesRequest>();

/** The path list token standing for a changedFiles request: it resolves to the deployment's root wildcard. */
export function changedFilesToken(request: ChangedFilesRequest): string[] {
  const list = Lazy.list({ produce: () => [`${request.root}*`] });
  requests.set(Tokenization.reverseList(list)!, request);
  return list;
}

/** The changedFiles request a path list stands for, if it is one. */
export function changedFilesRequest(paths: string[]): ChangedFilesRequest | undefined {
  if (!Token.isUnresolved(paths)) {
    return undefined;
  }
  const token = Tokenization.reverseList(paths);
  return token ? requests.get(token) : undefined;
}

/** The manifest asset of a deployment, and what it holds. */
export interface ManifestAsset {
  readonly asset: s3assets.Asset;
  readonly manifest: FileManifest;
  /** How many sources the deployment had when the manifest was made. */
  readonly sources: number;
}

/**
 * Writes the manifest of the deployment's sources and adds it to `scope` as a file asset named
 * `*.invalidation-manifest`, which the handler reads at deploy time.
 */
export function addManifestAsset(scope: Construct, id: string, deployment: s3deploy.BucketDeployment): ManifestAsset {
  const { manifest, sources } = deploymentManifest(deployment);
  const dir = FileSystem.mkdtemp('invalidation-manifest-');
  const file = path.join(dir, `files${MANIFEST_EXTENSION}`);
  fs.writeFileSync(file, renderManifest(manifest));
  const asset = new s3assets.Asset(scope, id, { path: file });
  const staged = (asset.node.tryFindChild('Stage') as AssetStaging | undefined)?.absoluteStagedPath;
  if (staged !== undefined && path.resolve(staged) !== path.resolve(file)) {
    // Staged into the cloud assembly: the temporary copy is no longer needed.
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { asset, manifest, sources };
}

/** How many sources a deployment has now. */
export function sourceCount(deployment: s3deploy.BucketDeployment): number {
  const keys = deploymentProperties(deployment).SourceObjectKeys;
  return Array.isArray(keys) ? keys.length : -1;
}

interface DeploymentProperties {
  readonly SourceObjectKeys?: unknown;
  readonly SourceMarkers?: unknown;
  readonly DestinationBucketKeyPrefix?: unknown;
  readonly Extract?: unknown;
  readonly [key: string]: unknown;
}

function deploymentProperties(deployment: s3deploy.BucketDeployment): DeploymentProperties {
  const cfn = bucketDeploymentResource(deployment, 'InvalidationPaths.changedFiles');
  return (renderResource(cfn)[0]?.definition.Properties ?? {}) as DeploymentProperties;
}

/** The manifest of what a deployment puts in its bucket, as far as synth can see. */
export function deploymentManifest(deployment: s3deploy.BucketDeployment): { manifest: FileManifest; sources: number } {
  const stack = Stack.of(deployment);
  const props = deploymentProperties(deployment);
  // What applies to every object: the properties but the sources and the handler.
  const { SourceObjectKeys: keys, SourceMarkers: markers, SourceBucketNames: _names, ServiceToken: _token, SourceMarkersConfig: _config, ...settings }
    = props;
  const prefix = typeof props.DestinationBucketKeyPrefix === 'string' ? props.DestinationBucketKeyPrefix.replace(/^\/+/, '') : '';
  const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  const files = new Map<string, string>();
  const unknown: string[] = [];
  const sourceKeys = Array.isArray(keys) ? keys : [];
  if (!Array.isArray(keys)) {
    unknown.push('its sources are known only at deploy time');
  }
  if (props.Extract === false || props.Extract === 'false') {
    unknown.push('it copies its sources as archives (extract: false)');
  }
  const assets = deployment.node.children.filter((c): c is s3assets.Asset => c instanceof s3assets.Asset);
  const byKey = new Map(assets.map((a) => [JSON.stringify(stack.resolve(a.s3ObjectKey)), a]));
  sourceKeys.forEach((key, i) => {
    const asset = byKey.get(JSON.stringify(stack.resolve(key)));
    if (!asset) {
      unknown.push(`source ${i + 1} is not a local asset (such as Source.bucket)`);
      return;
    }
    const sourceMarkers = Array.isArray(markers) ? markers[i] : undefined;
    const deployTime = !!sourceMarkers && typeof sourceMarkers === 'object' && Object.keys(sourceMarkers).length > 0;
    const staging = asset.node.tryFindChild('Stage') as AssetStaging | undefined;
    const sourcePath = staging?.absoluteStagedPath ?? asset.assetPath;
    let listing: Array<[string, string]>;
    try {
      listing = listFiles(sourcePath);
    } catch (e) {
      // An archive this reader does not know (zip64, say): its files are not known at synth.
      unknown.push(`source ${i + 1}: ${(e as Error).message}`);
      return;
    }
    // Later sources overwrite earlier ones with the same key, as the deployment does.
    for (const [name, hash] of listing) {
      files.set(`${base}${name}`, deployTime ? '' : hash);
    }
  });
  return {
    manifest: {
      format: MANIFEST_FORMAT,
      settings: createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 32),
      unknown: unknown.join('; '),
      files: [...files],
    },
    sources: sourceKeys.length,
  };
}

const listed = new Map<string, Array<[string, string]>>();

/** Every file of a directory or zip archive, with a hash of its content; each path read once per process. */
function listFiles(sourcePath: string): Array<[string, string]> {
  const absolute = path.resolve(sourcePath);
  let out = listed.get(absolute);
  if (!out) {
    out = fs.statSync(absolute).isDirectory() ? directoryFiles(absolute) : zipEntries(absolute);
    listed.set(absolute, out);
  }
  return out;
}

function contentHash(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}

function directoryFiles(root: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      const name = rel ? `${rel}/${entry}` : entry;
      const stat = fs.statSync(full);
      if (stat.isDirectory()) {
        walk(full, name);
      } else if (stat.isFile()) {
        out.push([name, contentHash(fs.readFileSync(full))]);
      }
    }
  };
  walk(root, '');
  return out;
}

/** The files of a zip archive (stored or deflated entries; no zip64), with hashes of their content. */
export function zipEntries(file: string): Array<[string, string]> {
  const zip = fs.readFileSync(file);
  const fail = (why: string) => new Error(`cannot read the zip archive ${file}: ${why}`);
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end === -1) {
    throw fail('no end of central directory');
  }
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) {
    throw fail('zip64 archives are not supported');
  }
  const out: Array<[string, string]> = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) {
      throw fail('a broken central directory');
    }
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength).replace(/\\/g, '/');
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) {
      continue;
    }
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    if (method !== 0 && method !== 8) {
      throw fail(`entry ${name} uses compression method ${method}`);
    }
    // A name may start with '/' or './'; the deployment puts the file at the key without it.
    out.push([name.replace(/^(\.?\/)+/, ''), contentHash(method === 0 ? raw : inflateRawSync(raw))]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Checks `maxPaths`; returns it. */
export function checkMaxPaths(maxPaths: number | undefined): number {
  const value = maxPaths ?? MAX_PATHS_PER_REQUEST;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PATHS_PER_REQUEST) {
    throw new Error(`InvalidationPaths.changedFiles: maxPaths is ${value}, but must be a whole number from 1 to ${MAX_PATHS_PER_REQUEST} `
      + '(what one CloudFront request carries)');
  }
  return value;
}
