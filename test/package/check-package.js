#!/usr/bin/env node
// Checks the npm package as a user gets it. The tarball (npx projen package:js) must hold the
// compiled library and the bundled handler. Then, for each given aws-cdk-lib, a scratch app installs
// the tarball next to that aws-cdk-lib, cdk-nag and the aws-cdk CLI (one install per version), and:
//
// - package: an app with every trigger, changedFiles and a nested stack synthesizes under
//   JSII_DEPRECATED=fail, and its handler asset is the bundle;
// - defaults: the app of test/package/consumer/ (five site stacks, one class) with the library's
//   defaults, compiled with tsc against the installed package and synthesized with
//   `cdk synth --strict`, under cdk-nag's AwsSolutions and Serverless packs and, where aws-cdk-lib
//   has it, its CloudFormation template validation with its findings as errors;
// - compliance: the same app with every stack on the README's compliance configuration of the
//   handler, under cdk-nag's NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 packs.
//
// Each finding (template validation, a cdk-nag rule, a warning or error annotation) is printed with
// its rule id, construct path and message. The check fails on any finding on the library's
// resources (under an Invalidation or a stack's CloudFrontInvalidationProvider); the app
// acknowledges those on its own resources, and any left there are listed but not counted.
//
// Usage: node test/package/check-package.js [--only=STEP,...] [--cli=VERSION] [--nag=VERSION] [aws-cdk-lib VERSION ...]
//   STEP: package, defaults, compliance (default: all three)
//   --cli: the aws-cdk CLI (default: latest)
//   --nag: cdk-nag for each aws-cdk-lib its peer range accepts (default: latest); older aws-cdk-lib
//          get the cdk-nag of this repository's devDependencies
//   VERSION: a version, or `latest` for the newest, resolved with `npm view` (default aws-cdk-lib:
//            this repository's, the lowest supported, and latest)
//
// The scratch apps are in scratch-app.js, what is synthesized in them in synth-checks.js, reading a
// cloud assembly's findings in findings.js and reporting them in findings-report.js.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const semver = require('semver');
const { reportVariant, summary } = require('./findings-report');
const { addConsumer, installApp, removeScratchOnExit } = require('./scratch-app');
const { CHUNKS, HANDLER, VARIANTS, checkBundle, checkVariant } = require('./synth-checks');

const root = path.resolve(__dirname, '..', '..');
const STEPS = ['package', 'defaults', 'compliance'];
const started = Date.now();

function fail(message) {
  console.error(`check-package: ${message}`);
  process.exit(1);
}

// ---- arguments ----
const options = { only: STEPS, cli: 'latest', nag: 'latest', versions: [] };
for (const arg of process.argv.slice(2)) {
  const [flag, value] = arg.startsWith('--') ? arg.split(/=(.*)/s) : [undefined, arg];
  if (flag === '--only') {
    options.only = value.split(',').filter(Boolean);
    const unknown = options.only.filter((s) => !STEPS.includes(s));
    if (unknown.length || !options.only.length) {
      fail(`--only takes ${STEPS.join(', ')}; got ${value}`);
    }
  } else if (flag === '--cli' || flag === '--nag') {
    options[flag.slice(2)] = value;
  } else if (flag === undefined) {
    options.versions.push(arg);
  } else {
    fail(`unknown option ${arg}`);
  }
}
const devDependencies = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies;
if (!options.versions.length) {
  options.versions = [devDependencies['aws-cdk-lib'], 'latest'];
}

/** A version as given, or the newest (the `latest` dist-tag), asked of the registry. */
function resolve(pkg, version) {
  if (version !== 'latest') {
    return version;
  }
  const newest = execFileSync('npm', ['view', `${pkg}@latest`, 'version'], { encoding: 'utf8' }).trim();
  if (!semver.valid(newest)) {
    fail(`npm view ${pkg}@latest version answered ${JSON.stringify(newest)}`);
  }
  return newest;
}

/** The newest version, or nothing if the registry does not say. */
function newestOrNothing(pkg) {
  try {
    return resolve(pkg, 'latest');
  } catch {
    return undefined;
  }
}

// ---- the tarball ----
const dist = path.join(root, 'dist', 'js');
const tarballs = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => f.endsWith('.tgz')) : [];
if (tarballs.length !== 1) {
  fail(`expected one tarball in dist/js (run npx projen package:js first), found ${tarballs.length}`);
}
const tarball = path.join(dist, tarballs[0]);
const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
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

// ---- scratch folders, removed however the check ends ----
removeScratchOnExit();

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(0)} s`;
}

// ---- one aws-cdk-lib version ----
async function checkVersion(target) {
  const lines = [];
  const log = (line = '') => lines.push(line);
  const failures = [];
  const results = [];
  let since = Date.now();
  const { app, install } = await installApp(target, tarball);
  if (install.code !== 0) {
    return { target, lines: [`npm install failed:\n${install.output}`], failures: ['npm install failed'], results };
  }
  log(`installed in ${seconds(since)}`);

  if (options.only.includes('package')) {
    since = Date.now();
    const problem = await checkBundle(app, bundle);
    if (problem) {
      failures.push(problem);
      log(`package: FAILED: ${problem}`);
    } else {
      log(`package: an app with every trigger, changedFiles and a nested stack synthesizes under JSII_DEPRECATED=fail, and its handler asset is the bundle (${seconds(since)})`);
    }
  }

  const variants = options.only.filter((s) => VARIANTS[s]);
  if (variants.length) {
    addConsumer(app, target.nag);
  }
  for (const variant of variants) {
    since = Date.now();
    const result = { ...await checkVariant(app, variant), variant };
    results.push(result);
    log();
    const validation = result.validates ? 'CloudFormation template validation' : `no template validation in aws-cdk-lib ${target.lib}`;
    log(`${variant} (${VARIANTS[variant].packs}; ${validation}), ${seconds(since)}:`);
    const report = reportVariant(result, target.lib);
    lines.push(...report.lines);
    failures.push(...report.failures);
  }
  return { target, lines, failures, results };
}

async function main() {
  const cli = resolve('aws-cdk', options.cli);
  const newestNag = resolve('cdk-nag', options.nag);
  const peer = JSON.parse(execFileSync('npm', ['view', `cdk-nag@${newestNag}`, 'peerDependencies', '--json'], { encoding: 'utf8' }) || '{}')['aws-cdk-lib'];
  const targets = options.versions.map((v) => {
    const lib = resolve('aws-cdk-lib', v);
    if (semver.major(lib) !== 2) {
      fail(`aws-cdk-lib ${lib} is not 2.x: give the version to check`);
    }
    // The newest cdk-nag where its peer range takes this aws-cdk-lib; below it, the one this repository tests with.
    const nag = !peer || semver.satisfies(lib, peer) ? newestNag : devDependencies['cdk-nag'];
    return { lib, nag, cli };
  });
  // A pinned run says when a newer release is out, so that the pins are moved on.
  const pinned = [['aws-cdk', options.cli], ['cdk-nag', options.nag], ['aws-cdk-lib', options.versions.includes('latest') ? 'latest' : targets.at(-1).lib]];
  for (const [pkg, version] of pinned.filter(([, v]) => v !== 'latest')) {
    const newest = newestOrNothing(pkg);
    if (newest && semver.gt(newest, version)) {
      console.log(`note: ${pkg} ${newest} is out; this run checks ${version}`);
    }
  }
  console.log(`checking ${targets.map((t) => `aws-cdk-lib ${t.lib} with cdk-nag ${t.nag}`).join(' and ')}, aws-cdk ${cli}: ${options.only.join(', ')}`);
  console.log(`(to run this again: node test/package/check-package.js --only=${options.only.join(',')} --cli=${cli} --nag=${newestNag} ${targets.map((t) => t.lib).join(' ')})`);

  // Each version in a scratch app of its own, side by side.
  const outcomes = await Promise.all(targets.map(checkVersion));
  for (const { target, lines } of outcomes) {
    console.log(`\n== aws-cdk-lib ${target.lib}, cdk-nag ${target.nag}, aws-cdk ${target.cli} ==`);
    console.log(lines.join('\n'));
  }
  const failures = outcomes.flatMap(({ target, failures: f }) => f.map((m) => `aws-cdk-lib ${target.lib}: ${m.split('\n')[0]}`));
  const grouped = summary(outcomes);
  if (grouped.length) {
    console.log('\nFindings on the library\'s resources, by version, variant, pack and rule (stacks in brackets):');
    console.log(grouped.join('\n'));
  }
  console.log(`\n${failures.length ? 'FAILED' : 'passed'} in ${seconds(started)}${failures.length ? ':' : ''}`);
  for (const f of failures) {
    console.log(`  ${f}`);
  }
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
