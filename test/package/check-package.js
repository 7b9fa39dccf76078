#!/usr/bin/env node
// Checks the npm package as a user gets it: the tarball holds the compiled library and the bundled
// handler, and an app that installs it (next to a given aws-cdk-lib) synthesizes a stack whose
// handler asset is that bundle. Usage: node test/package/check-package.js [aws-cdk-lib version...]
// With no version, uses the aws-cdk-lib of this repository (the lowest supported one).
'use strict';

const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const HANDLER = 'assets/lambda/invalidation/index/index.js';

function fail(message) {
  console.error(`check-package: ${message}`);
  process.exit(1);
}

const dist = path.join(root, 'dist', 'js');
const tarballs = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => f.endsWith('.tgz')) : [];
if (tarballs.length !== 1) {
  fail(`expected one tarball in dist/js (run npx projen package:js first), found ${tarballs.length}`);
}
const tarball = path.join(dist, tarballs[0]);
const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
const CHUNKS = ['cloudformation.js', 'lambda.js', 's3.js'].map((f) => path.posix.join(path.posix.dirname(HANDLER), f));
for (const required of ['package/lib/index.js', 'package/lib/index.d.ts', `package/${HANDLER}`, ...CHUNKS.map((c) => `package/${c}`), 'package/.jsii', 'package/README.md']) {
  if (!listing.includes(required)) {
    fail(`${tarballs[0]} lacks ${required}`);
  }
}
for (const forbidden of listing.filter((f) => /^package\/(src|test|lambda)\//.test(f) || f.endsWith('.meta.json'))) {
  fail(`${tarballs[0]} should not ship ${forbidden}`);
}
const bundle = fs.readFileSync(path.join(root, HANDLER));
console.log(`${tarballs[0]}: ${listing.filter(Boolean).length} entries, handler ${(bundle.length / 1024).toFixed(1)} KiB`);

const versions = process.argv.slice(2);
for (const version of versions.length ? versions : ['repository']) {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
  const modules = path.join(app, 'node_modules');
  if (version === 'repository') {
    fs.mkdirSync(modules);
    for (const dep of ['aws-cdk-lib', 'constructs']) {
      fs.symlinkSync(path.join(root, 'node_modules', dep), path.join(modules, dep), 'dir');
    }
  } else {
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `aws-cdk-lib@${version}`, 'constructs@10'], { cwd: app, stdio: 'inherit' });
  }
  // Installed the way npm would: the package's files under node_modules.
  execFileSync('tar', ['-xzf', tarball, '-C', app]);
  fs.renameSync(path.join(app, 'package'), path.join(modules, 'cdk-cloudfront-invalidation'));
  // Every trigger, changedFiles and a nested stack, with a deprecated API making synthesis fail.
  fs.mkdirSync(path.join(app, 'site'));
  fs.writeFileSync(path.join(app, 'site', 'index.html'), '<h1>hello</h1>');
  fs.writeFileSync(path.join(app, 'app.js'), `
    const { App, NestedStack, Stack } = require('aws-cdk-lib');
    const cloudfront = require('aws-cdk-lib/aws-cloudfront');
    const origins = require('aws-cdk-lib/aws-cloudfront-origins');
    const s3 = require('aws-cdk-lib/aws-s3');
    const s3deploy = require('aws-cdk-lib/aws-s3-deployment');
    const { Invalidation, InvalidationPaths, InvalidationTrigger } = require('cdk-cloudfront-invalidation');
    const app = new App({ outdir: 'cdk.out' });
    const stack = new Stack(app, 'Consumer');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: 'E123EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Invalidate', { distribution, paths: ['/index.html'] });
    const bucket = new s3.Bucket(stack, 'Site');
    const cdn = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deployment = new s3deploy.BucketDeployment(stack, 'Files', { sources: [s3deploy.Source.asset('site')], destinationBucket: bucket });
    new Invalidation(stack, 'OnDeployment', { distribution: cdn, trigger: InvalidationTrigger.onDeployment(deployment), paths: InvalidationPaths.changedFiles(deployment) });
    new Invalidation(stack, 'OnChange', { distribution: cdn, trigger: InvalidationTrigger.onChangeOf('v1'), paths: ['/api/*'] });
    new Invalidation(new NestedStack(stack, 'Nested'), 'InNested', { distribution: cdn });
    app.synth();
    console.log(require('aws-cdk-lib/package.json').version);
  `);
  const run = spawnSync(process.execPath, ['app.js'], { cwd: app, encoding: 'utf8', env: { ...process.env, JSII_DEPRECATED: 'fail' } });
  if (run.status !== 0 || /deprecated/i.test(`${run.stdout}${run.stderr}`)) {
    fail(`the app did not synthesize cleanly under JSII_DEPRECATED=fail:\n${run.stdout}${run.stderr}`);
  }
  const cdkVersion = run.stdout.trim().split('\n').pop();
  const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'Consumer.template.json'), 'utf8'));
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  const assets = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'Consumer.assets.json'), 'utf8'));
  const asset = Object.values(assets.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === fn.Properties.Code.S3Key));
  const shipped = fs.readFileSync(path.join(app, 'cdk.out', asset.source.path, 'index.js'));
  if (!shipped.equals(bundle)) {
    fail(`the handler asset synthesized with aws-cdk-lib ${cdkVersion} is not the bundled handler`);
  }
  if (!Object.values(template.Resources).some((r) => r.Type === 'Custom::CloudFrontInvalidation')) {
    fail(`no Custom::CloudFrontInvalidation in the template synthesized with aws-cdk-lib ${cdkVersion}`);
  }
  for (const chunk of CHUNKS) {
    if (!fs.readFileSync(path.join(app, 'cdk.out', asset.source.path, path.basename(chunk))).equals(fs.readFileSync(path.join(root, chunk)))) {
      fail(`the handler asset synthesized with aws-cdk-lib ${cdkVersion} lacks ${path.basename(chunk)} as bundled`);
    }
  }
  console.log(`aws-cdk-lib ${cdkVersion}: an app with every trigger, changedFiles and a nested stack synthesizes under JSII_DEPRECATED=fail, `
    + 'and its handler asset is the bundle');
  fs.rmSync(app, { recursive: true, force: true });
}
