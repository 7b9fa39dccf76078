/**
 * The files BucketDeployments put in buckets, as the lifecycle driver keeps them: a version of each
 * bucket/prefix (a hash of the sources deployed there) and, when known, each file with a hash of
 * its content; every change recorded in the step's report with the distributions serving the bucket.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import type { SynthesizedStack } from './assembly';
import type { DriverState } from './driver-state';
import type { Phase } from './options';

/** The content of every bucket/prefix a BucketDeployment deployed to. */
export class BucketContents {
  /** Current content per bucket/prefix. */
  private readonly versions = new Map<string, string>();
  /** Current files per bucket/prefix, with a hash of each, when known. */
  private readonly files = new Map<string, Map<string, string> | undefined>();

  public constructor(private readonly state: DriverState) {}

  /**
   * What a BucketDeployment's Create or Update puts in its destination: when its sources changed,
   * the new version of the content, recorded with the keys that changed when every file is known.
   */
  public land(synthesized: SynthesizedStack, properties: Record<string, unknown>, phase: Phase): void {
    const p = properties;
    const bucket = String(p.DestinationBucketName);
    const prefix = String(p.DestinationBucketKeyPrefix ?? '');
    const version = createHash('sha256').update(JSON.stringify([p.SourceObjectKeys, p.SourceMarkers ?? null])).digest('hex').slice(0, 8);
    const key = `${bucket}/${prefix}`;
    if (this.versions.get(key) !== version) {
      this.versions.set(key, version);
      const files = this.filesOf(synthesized, p, prefix);
      const before = this.files.get(key);
      this.files.set(key, files);
      const changedKeys = files && before
        ? [...new Set([...files.keys(), ...before.keys()])].filter((k) => files.get(k) !== before.get(k)).sort()
        : undefined;
      const distributions = this.distributionsServing(bucket);
      this.state.current!.content.push({ bucket, prefix, version, distributions, phase, landedAt: this.state.clock(), changedKeys });
    }
  }

  /**
   * What the BucketDeployment handler's `aws s3 rm s3://<bucket>/<prefix> --recursive` does: every
   * file under the prefix is gone, recorded as a change of content like a deploy.
   */
  public remove(bucket: string, prefix: string, phase: Phase): void {
    for (const key of [...this.versions.keys()]) {
      const slash = key.indexOf('/');
      const keyBucket = key.slice(0, slash);
      const contentPrefix = key.slice(slash + 1);
      if (keyBucket !== bucket || !(contentPrefix === '/' ? '' : contentPrefix).startsWith(prefix)) {
        continue;
      }
      const files = this.files.get(key);
      this.versions.delete(key);
      // Known to be empty now: whatever lands there next is new, file by file.
      this.files.set(key, new Map());
      const changedKeys = files ? [...files.keys()].sort() : undefined;
      const distributions = this.distributionsServing(bucket);
      this.state.current!.content.push({ bucket, prefix: contentPrefix, version: 'removed', distributions, phase, landedAt: this.state.clock(), changedKeys });
    }
  }

  /**
   * The BucketDeployment handler's `bucket_owned`: whether the bucket carries a tag of a
   * BucketDeployment (`aws-cdk:cr-owned[:<prefix>]...`, which CDK puts on every destination bucket
   * it defines), in which case a Delete leaves the files for the bucket's own removal.
   */
  public owned(bucket: string, prefix: string): boolean {
    const tag = prefix === '' ? 'aws-cdk:cr-owned' : `aws-cdk:cr-owned:${prefix}`;
    return [...this.state.stacks.values()].some((stack) => [...stack.resources.values()].some((r) => r.type === 'AWS::S3::Bucket' && r.physicalId === bucket
      && ((r.properties.Tags ?? []) as Array<{ Key?: unknown }>).some((t) => String(t.Key).startsWith(tag))));
  }

  /**
   * The files a BucketDeployment puts under its prefix, with a hash of each, read from the cloud
   * assembly's folder assets; undefined when a source is not one, or has deploy-time values.
   */
  private filesOf(synthesized: SynthesizedStack, p: Record<string, unknown>, prefix: string): Map<string, string> | undefined {
    const keys = (p.SourceObjectKeys ?? []) as unknown[];
    const markers = (p.SourceMarkers ?? []) as unknown[];
    const files = new Map<string, string>();
    const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    for (const [i, key] of keys.entries()) {
      const dir = synthesized.assetDirs.get(String(key));
      if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory() || Object.keys((markers[i] ?? {}) as object).length > 0) {
        return undefined;
      }
      const walk = (folder: string, rel: string): void => {
        for (const entry of fs.readdirSync(folder)) {
          const full = `${folder}/${entry}`;
          if (fs.statSync(full).isDirectory()) {
            walk(full, `${rel}${entry}/`);
          } else {
            files.set(`${base}${rel}${entry}`, createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
          }
        }
      };
      walk(dir, '');
    }
    return files;
  }

  /** The distributions with an origin on the bucket. */
  private distributionsServing(bucket: string): string[] {
    const out: string[] = [];
    for (const stack of this.state.stacks.values()) {
      for (const r of stack.resources.values()) {
        if (r.type === 'AWS::CloudFront::Distribution') {
          const origins = ((r.properties.DistributionConfig as { Origins?: Array<{ DomainName: string }> })?.Origins ?? []);
          if (origins.some((o) => String(o.DomainName).startsWith(`${bucket}.s3.`))) {
            out.push(r.physicalId);
          }
        }
      }
    }
    return out;
  }
}
