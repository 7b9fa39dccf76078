/**
 * `InvalidationPaths.changedFiles` at synth: the manifest asset, the custom resource's properties,
 * the handler's read permission, the rollback rule's targets and the cost annotation. The planning
 * of the paths from two manifests is in test/unit/changed-paths.test.ts.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Invalidation, InvalidationPaths } from '../../src';
import type { ChangedFilesOptions } from '../../src';
import { zipEntries } from '../../src/changed-files';
import type { FileManifest } from '../../src/shared/file-manifest';
import { MANIFEST_EXTENSION, parseManifest } from '../../src/shared/file-manifest';
import { ENV, writeSite } from '../support/synth';
import { invalidationResources } from '../support/template';

process.env.JSII_DEPRECATED = 'fail';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'changed-files-test-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

interface Synth {
  readonly template: Template;
  readonly stack: Stack;
  readonly manifest: FileManifest;
  readonly properties: Record<string, any>;
  readonly invalidation: Invalidation;
}

function synth(sources: s3deploy.ISource[], options: ChangedFilesOptions = {}, prefix?: string): Synth {
  const app = new App({ outdir: fs.mkdtempSync(path.join(TMP, 'out-')) });
  const stack = new Stack(app, 'Site', { env: ENV });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
  const deployment = new s3deploy.BucketDeployment(stack, 'Deploy', { sources, destinationBucket: bucket, destinationKeyPrefix: prefix });
  const invalidation = new Invalidation(stack, 'Purge', { distribution, paths: InvalidationPaths.changedFiles(deployment, options) });
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const properties = Object.values(invalidationResources(template))[0].Properties;
  const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Site.assets.json'), 'utf8')).files as Record<string, { source: { path: string } }>;
  const file = Object.values(assets).map((a) => a.source.path).find((p) => p.endsWith(MANIFEST_EXTENSION))!;
  return { template, stack, manifest: parseManifest(fs.readFileSync(path.join(assembly.directory, file), 'utf8')), properties, invalidation };
}

describe('InvalidationPaths.changedFiles at synth', () => {
  const site = writeSite({ 'index.html': '<h1>home</h1>', 'docs/index.html': 'docs', 'docs/a.html': 'a' });

  test('ships a manifest of every file with a hash of its content, as an asset, not in the template', () => {
    const { manifest, properties, template } = synth([s3deploy.Source.asset(site)]);
    expect(manifest.files.map(([k]) => k)).toEqual(['docs/a.html', 'docs/index.html', 'index.html']);
    expect(manifest.files.every(([, h]) => /^[0-9a-f]{32}$/.test(h))).toBe(true);
    expect(manifest.unknown).toBe('');
    expect(properties.Paths).toEqual(['/*']);
    expect(properties.ChangedFiles).toEqual({
      ManifestBucket: 'cdk-hnb659fds-assets-123456789012-eu-west-1',
      ManifestKey: expect.stringMatching(new RegExp(`^[0-9a-f]{64}${MANIFEST_EXTENSION.replace('.', '\\.')}$`)),
      OriginPath: '',
      Root: '/',
      IndexDocument: '',
      MaxPaths: '3000',
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('docs/a.html');
  });

  test('a file that changes changes its hash alone, and the manifest key', () => {
    const before = synth([s3deploy.Source.asset(site)]);
    const after = synth([s3deploy.Source.asset(writeSite({ 'index.html': '<h1>home</h1>', 'docs/index.html': 'docs', 'docs/a.html': 'A' }))]);
    const changed = after.manifest.files.filter(([k, h]) => before.manifest.files.find(([k2]) => k2 === k)![1] !== h).map(([k]) => k);
    expect(changed).toEqual(['docs/a.html']);
    expect(after.properties.ChangedFiles.ManifestKey).not.toBe(before.properties.ChangedFiles.ManifestKey);
  });

  test('lets the handler read the manifests of the asset bucket, and nothing else of it', () => {
    const { template } = synth([s3deploy.Source.asset(site)]);
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((p) => JSON.stringify(p).includes('s3:GetObject')
      && JSON.stringify(p).includes(MANIFEST_EXTENSION));
    expect(policies).toHaveLength(1);
    const statement = policies[0].Properties.PolicyDocument.Statement.find((s: any) => s.Action === 's3:GetObject');
    expect(statement.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*${MANIFEST_EXTENSION}`]] });
  });

  test('under a key prefix and an origin path, the root is the viewer directory; the rollback rule purges it whole', () => {
    const { properties, template, manifest } = synth([s3deploy.Source.asset(site)], { originPath: '/site', indexDocument: 'index.html', maxPaths: 100 }, 'site/docs-v2');
    expect(properties.Paths).toEqual(['/docs-v2/*']);
    expect(properties.ChangedFiles).toMatchObject({ OriginPath: 'site', Root: '/docs-v2/', IndexDocument: 'index.html', MaxPaths: '100' });
    expect(manifest.files[0][0]).toBe('site/docs-v2/docs/a.html');
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
    expect(JSON.stringify(rule)).toContain('\\"Paths\\":[\\"/docs-v2/*\\"]');
  });

  test('says what a deploy can bill, in an info annotation', () => {
    const { stack } = synth([s3deploy.Source.asset(site)]);
    Annotations.fromStack(stack).hasInfo('/Site/Purge', Match.stringLikeRegexp('^Up to 3000 paths per deploy: the files that changed .*\\$0\\.005 a path'));
  });

  test('reads zip entry names as the deployment puts them, and takes an archive it cannot read as known only at deploy time', () => {
    const dir = writeSite({ 'docs/a.html': 'a' });
    const dotted = path.join(TMP, 'dotted.zip');
    execFileSync('python3', ['-c', 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    z.writestr("./docs/a.html", "a")', dotted]);
    expect(zipEntries(dotted).map(([k]) => k)).toEqual(['docs/a.html']);
    const zip64 = path.join(TMP, 'site64.zip');
    execFileSync('zip', ['-q', '-r', '-fz', zip64, '.'], { cwd: dir });
    const { manifest } = synth([s3deploy.Source.asset(zip64)]);
    expect(manifest.unknown).toMatch(/^source 1: cannot read the zip archive .*zip64/);
  });

  test('reads the files of a zip source', () => {
    const dir = writeSite({ 'a.txt': 'hello hello hello hello', 'sub/b.txt': 'b' });
    const zip = path.join(TMP, 'site.zip');
    execFileSync('zip', ['-q', '-r', zip, '.'], { cwd: dir });
    expect(zipEntries(zip).map(([k]) => k)).toEqual(['a.txt', 'sub/b.txt']);
    const { manifest } = synth([s3deploy.Source.asset(zip)]);
    expect(manifest.files.map(([k]) => k)).toEqual(['a.txt', 'sub/b.txt']);
    expect(manifest.files[0][1]).toBe(synth([s3deploy.Source.asset(dir)]).manifest.files[0][1]);
  });

  test('a source with deploy-time values has its keys, without a hash; a source from another bucket makes the deploy purge everything', () => {
    const app = new App();
    const other = new Stack(app, 'Other');
    const bucket = s3.Bucket.fromBucketName(other, 'B', 'other-bucket');
    const withToken = synth([s3deploy.Source.asset(site), s3deploy.Source.data('config.json', bucket.bucketArn)]);
    expect(withToken.manifest.files.find(([k]) => k === 'config.json')).toEqual(['config.json', '']);
    const fromBucket = synth([s3deploy.Source.asset(site), s3deploy.Source.bucket(bucket, 'site.zip')]);
    expect(fromBucket.manifest.unknown).toMatch(/source 2 is not a local asset/);
  });

  test('refuses a bad maxPaths or indexDocument, naming them', () => {
    expect(() => synth([s3deploy.Source.asset(site)], { maxPaths: 0 })).toThrow(/maxPaths is 0/);
    expect(() => synth([s3deploy.Source.asset(site)], { maxPaths: 3001 })).toThrow(/maxPaths is 3001/);
    expect(() => synth([s3deploy.Source.asset(site)], { indexDocument: 'a/index.html' })).toThrow(/indexDocument "a\/index.html"/);
  });

  test('refuses a source added after the Invalidation', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(TMP, 'out-')) });
    const stack = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deployment = new s3deploy.BucketDeployment(stack, 'Deploy', { sources: [s3deploy.Source.asset(site)], destinationBucket: bucket });
    new Invalidation(stack, 'Purge', { distribution, paths: InvalidationPaths.changedFiles(deployment) });
    deployment.addSource(s3deploy.Source.data('late.txt', 'late'));
    expect(() => app.synth()).toThrow(/got sources after InvalidationPaths.changedFiles made its manifest \(1 then, 2 now\)/);
  });
});

describe('cost annotations of literal paths', () => {
  test.each([
    [undefined, '1 path (/*) per deploy'],
    [['/a', '/b', '/c', '/d'], '4 paths (/a /b /c ...) per deploy'],
  ])('%j', (paths, expected) => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: ENV });
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: 'E1', domainName: 'x.cloudfront.net' });
    new Invalidation(stack, 'Purge', { distribution, paths });
    Annotations.fromStack(stack).hasInfo('/S/Purge', Match.stringLikeRegexp(`^${expected.replace(/[()*.]/g, '\\$&')}\\.`));
  });
});
