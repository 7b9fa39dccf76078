#!/usr/bin/env node
// Checks the npm package as a user gets it: the tarball holds the compiled library and the bundled
// handler, and an app that installs it (next to a given aws-cdk-lib) synthesizes a stack whose
// handler asset is that bundle. Usage: node test/package/check-package.js [aws-cdk-lib version...]
// With no version, uses the aws-cdk-lib of this repository (the lowest supported one).
'use strict';

const { execFileSync } = require('child_process');
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
for (const required of ['package/lib/index.js', 'package/lib/index.d.ts', `package/${HANDLER}`, 'package/.jsii', 'package/README.md']) {
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
  fs.writeFileSync(path.join(app, 'app.js'), `
    const { App, Stack } = require('aws-cdk-lib');
    const cloudfront = require('aws-cdk-lib/aws-cloudfront');
    const { Invalidation } = require('cdk-cloudfront-invalidation');
    const app = new App({ outdir: 'cdk.out' });
    const stack = new Stack(app, 'Consumer');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: 'E123EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Invalidate', { distribution, paths: ['/index.html'] });
    app.synth();
    console.log(require('aws-cdk-lib/package.json').version);
  `);
  const cdkVersion = execFileSync(process.execPath, ['app.js'], { cwd: app, encoding: 'utf8' }).trim();
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
  console.log(`aws-cdk-lib ${cdkVersion}: an app using the package synthesizes, and its handler asset is the bundle`);
  fs.rmSync(app, { recursive: true, force: true });
}
