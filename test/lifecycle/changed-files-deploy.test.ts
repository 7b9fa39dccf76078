/**
 * `InvalidationPaths.changedFiles` end to end: a 500-file site deployed with the lifecycle driver,
 * the real bundled handler reading the manifests from the S3 stand-in with the real S3 client, and
 * CloudFront's stand-in receiving the paths.
 */
import { Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationPaths } from '../../src';
import type { ChangedFilesOptions } from '../../src';
import { ATTRIBUTES, RESOURCE_TYPE } from '../../src/shared/contract';
import { MANIFEST_EXTENSION } from '../../src/shared/file-manifest';
import type { SynthesizedStack } from '../driver/assembly';
import { LifecycleDriver } from '../driver/driver';
import { uncoveredChanges } from '../driver/invariants';
import { ACCOUNT_ID, REGION } from '../driver/local-cloud';
import type { StepReport } from '../driver/reports';
import { ENV, synthStack, writeSite } from '../support/synth';

const STACK = 'ChangedFilesSite';

/** A site of `count` pages in 10 directories, plus an index at the root and in docs/, with some pages edited; its folder. */
function writePages(count: number, edits: Record<string, string> = {}): string {
  const files: Record<string, string> = { 'index.html': '<h1>home</h1>', 'docs/index.html': '<h1>docs</h1>' };
  for (let i = 0; i < count - 2; i++) {
    files[`section-${i % 10}/page-${i}.html`] = `<p>page ${i}</p>`;
  }
  return writeSite({ ...files, ...edits });
}

function synth(site: string, options: ChangedFilesOptions = { indexDocument: 'index.html' }, recordPurge = false): SynthesizedStack {
  return synthStack('changed-files-', STACK, (app) => {
    const stack = new Stack(app, STACK, { env: ENV });
    const bucket = new s3.Bucket(stack, 'Content');
    const distribution = new cloudfront.Distribution(stack, 'Cdn', {
      defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
      defaultRootObject: 'index.html',
    });
    const deployment = new s3deploy.BucketDeployment(stack, 'Site', { sources: [s3deploy.Source.asset(site)], destinationBucket: bucket });
    const purge = new Invalidation(stack, 'Purge', { distribution, paths: InvalidationPaths.changedFiles(deployment, options) });
    if (recordPurge) {
      new ssm.StringParameter(stack, 'LastPurge', { stringValue: purge.invalidationId });
    }
  });
}

function answerOf(report: StepReport): Record<string, string> {
  // Every changed object purged after it landed (I1, I4), as the invariant checks judge it.
  expect(uncoveredChanges(report)).toEqual([]);
  const request = report.requests.find((r) => r.resourceType === RESOURCE_TYPE && r.phase === 'deploy');
  expect(request?.answer?.Status).toBe('SUCCESS');
  return request!.answer!.Data as Record<string, string>;
}

let driver: LifecycleDriver;
const v1 = writePages(500);

beforeAll(async () => {
  driver = await LifecycleDriver.start();
});
afterAll(async () => {
  await driver?.close();
});

describe('changedFiles on a 500-file site', () => {
  test('the first deploy purges the whole site, and says why', async () => {
    const report = await driver.deploy(synth(v1));
    expect(report.invalidations.map((i) => i.paths)).toEqual([['/*']]);
    const data = answerOf(report);
    expect(data[ATTRIBUTES.PATHS_NOTE]).toMatch(/^purged \/\*: there is no earlier manifest/);
    expect(data[ATTRIBUTES.PATHS_SUBMITTED]).toBe('1');
    expect(data[ATTRIBUTES.WILDCARDS_SUBMITTED]).toBe('1');
  });

  test('one changed file purges exactly its path', async () => {
    const report = await driver.deploy(synth(writePages(500, { 'section-3/page-213.html': '<p>edited</p>' })));
    expect(report.invalidations.map((i) => i.paths)).toEqual([['/section-3/page-213.html']]);
    const data = answerOf(report);
    expect(data[ATTRIBUTES.PATHS_NOTE]).toBe('1 of 500 objects added, changed or deleted: 1 path(s)');
    expect(data[ATTRIBUTES.PATHS_SUBMITTED]).toBe('1');
    expect(data[ATTRIBUTES.WILDCARDS_SUBMITTED]).toBe('0');
    // Submitted after the new files landed.
    expect(report.invalidations[0].createdAtRequest).toBeGreaterThan(Math.max(...report.content.map((c) => c.landedAt)));
  });

  test('a changed index document purges it and its directory path', async () => {
    const report = await driver.deploy(synth(writePages(500, { 'section-3/page-213.html': '<p>edited</p>', 'docs/index.html': '<h1>new docs</h1>' })));
    expect(report.invalidations.map((i) => [...i.paths].sort())).toEqual([['/docs/', '/docs/index.html']]);
    expect(report.content[0].changedKeys).toEqual(['docs/index.html']);
    answerOf(report);
  });

  test('the handler reads the manifests, and only them, from the asset bucket', () => {
    const reads = driver.cloud.s3.requests;
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.key.endsWith(MANIFEST_EXTENSION) && r.status === 200)).toBe(true);
  });

  test('purges the whole site when the previous manifest is gone (cdk gc), and says so', async () => {
    const bucket = `cdk-hnb659fds-assets-${ACCOUNT_ID}-${REGION}`;
    const previous = String((driver.resource(STACK, Object.keys(synth(v1).template.Resources).find((id) => id.startsWith('Purge'))!)?.properties
      .ChangedFiles as { ManifestKey: string }).ManifestKey);
    driver.cloud.s3.deleteObject(bucket, previous);
    const report = await driver.deploy(synth(writePages(500, { 'section-4/page-4.html': '<p>edited</p>' })));
    expect(report.invalidations.map((i) => i.paths)).toEqual([['/*']]);
    expect(answerOf(report)[ATTRIBUTES.PATHS_NOTE]).toMatch(/previous manifest s3:\/\/.*could not be read \(AccessDenied\)/);
  });

  test('after a rollback, the stack\'s rule purges the whole site', async () => {
    const failing = synth(writePages(500, { 'section-5/page-5.html': '<p>edited</p>' }), { indexDocument: 'index.html' }, true);
    const record = Object.keys(failing.template.Resources).find((id) => id.startsWith('LastPurge'))!;
    const report = await driver.deploy(failing, { fail: [record] });
    expect(report.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(uncoveredChanges(report)).toEqual([]);
    // The failed deploy's purge (page 4 goes back to v1, page 5 changes), then the rule's once the v4 files are back.
    expect(report.invalidations.map((i) => i.paths)).toEqual([['/section-4/page-4.html', '/section-5/page-5.html'], ['/*']]);
  });
});
