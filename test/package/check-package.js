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
'use strict';

const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const semver = require('semver');
const { readFindings, TEMPLATE_VALIDATION } = require('./findings');

const root = path.resolve(__dirname, '..', '..');
const HANDLER = 'assets/lambda/invalidation/index/index.js';
const CONSUMER = path.join(__dirname, 'consumer');
const STEPS = ['package', 'defaults', 'compliance'];
const VARIANTS = {
  defaults: { entry: 'defaults.ts', packs: 'AwsSolutions, Serverless' },
  compliance: { entry: 'compliance.ts', packs: 'NIST.800.53.R5, HIPAA.Security, PCI.DSS.321' },
};
/** The stacks' environment has a VPC in the compliance variant: its availability zones, as `cdk context` would keep them. */
const CONTEXT = { 'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] };
/** Template validation's findings are errors, not warnings (aws-cdk-lib's feature flag; older versions ignore it). */
const VALIDATE_AS_ERRORS = '@aws-cdk/core:validateAgainstDefaultRules=true';
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

// ---- scratch folders, removed however the check ends ----
const scratch = [];
const children = new Set();
function removeScratch() {
  for (const child of children) {
    stop(child);
  }
  for (const dir of scratch.splice(0)) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
process.on('exit', removeScratch);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => process.exit(130));
}

/** Ends a command and what it started (its own process group). */
function stop(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs a command in a process group of its own; resolves to its exit code and output (stdout and stderr together). */
function run(command, args, { cwd, env, timeoutMs = 5 * 60_000 }) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => {
      output += `\n(stopped after ${timeoutMs / 1000} s)`;
      stop(child);
    }, timeoutMs);
    child.on('error', (error) => { output += String(error); });
    child.on('close', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      done({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(0)} s`;
}

/** The CLI runs the app without reaching AWS: no credentials from the environment, no instance metadata, no telemetry. */
function cliEnvironment() {
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    delete env[name];
  }
  // Template validation runs unless CDK_VALIDATION=false says otherwise.
  delete env.CDK_VALIDATION;
  delete env.JSII_DEPRECATED;
  return env;
}

// ---- one aws-cdk-lib version ----
async function checkVersion(target) {
  const lines = [];
  const log = (line = '') => lines.push(line);
  const failures = [];
  const results = [];
  const app = fs.mkdtempSync(path.join(os.tmpdir(), `consumer-${target.lib}-`));
  scratch.push(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'consumer',
    private: true,
    dependencies: { 'aws-cdk-lib': target.lib, 'constructs': '^10.0.5', 'cdk-nag': target.nag, 'cdk-cloudfront-invalidation': `file:${tarball}` },
    devDependencies: { 'aws-cdk': target.cli },
  }, undefined, 2));
  let since = Date.now();
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], { cwd: app });
  if (install.code !== 0) {
    return { target, lines: [`npm install failed:\n${install.output}`], failures: ['npm install failed'], results };
  }
  log(`installed in ${seconds(since)}`);

  if (options.only.includes('package')) {
    since = Date.now();
    const problem = await checkBundle(app);
    if (problem) {
      failures.push(problem);
      log(`package: FAILED: ${problem}`);
    } else {
      log(`package: an app with every trigger, changedFiles and a nested stack synthesizes under JSII_DEPRECATED=fail, and its handler asset is the bundle (${seconds(since)})`);
    }
  }

  const variants = options.only.filter((s) => VARIANTS[s]);
  if (variants.length) {
    for (const file of ['site.ts', 'defaults.ts', 'compliance.ts']) {
      fs.copyFileSync(path.join(CONSUMER, file), path.join(app, file));
    }
    fs.copyFileSync(path.join(CONSUMER, `nag-v${semver.major(target.nag)}.ts`), path.join(app, 'nag.ts'));
    fs.mkdirSync(path.join(app, 'site'), { recursive: true });
    fs.writeFileSync(path.join(app, 'site', 'index.html'), '<h1>hello</h1>');
    fs.writeFileSync(path.join(app, 'cdk.context.json'), JSON.stringify(CONTEXT, undefined, 2));
  }
  for (const variant of variants) {
    since = Date.now();
    const result = { ...await checkVariant(app, variant), variant };
    results.push(result);
    log();
    const validation = result.validates ? 'CloudFormation template validation' : `no template validation in aws-cdk-lib ${target.lib}`;
    log(`${variant} (${VARIANTS[variant].packs}; ${validation}), ${seconds(since)}:`);
    if (result.problem) {
      failures.push(`${variant}: ${result.problem}`);
      log(`  FAILED: ${result.problem}`);
      if (result.output) {
        log(indent(result.output.trim(), '    '));
      }
      continue;
    }
    const library = result.findings.filter((f) => f.library);
    const own = result.findings.filter((f) => !f.library);
    log(`  cdk synth --strict exited ${result.cliCode}`);
    log(`  ${library.length} finding(s) on the library's resources${library.length ? ':' : ''}`);
    for (const f of sortFindings(library)) {
      log(`    ${describe(f)}`);
    }
    log(`  ${own.length} unacknowledged finding(s) on the app's own resources${own.length ? ':' : ''}`);
    for (const f of sortFindings(own)) {
      log(`    ${describe(f)}`);
    }
    if (result.validates && !result.plugins.includes(TEMPLATE_VALIDATION)) {
      failures.push(`${variant}: aws-cdk-lib ${target.lib} has template validation, but it did not run`);
      log(`  FAILED: aws-cdk-lib ${target.lib} has template validation, but the validation report has no ${TEMPLATE_VALIDATION}`);
    }
    if (library.length) {
      failures.push(`${variant}: ${library.length} finding(s) on the library's resources`);
    }
    // The app acknowledges what it must of its own: `cdk synth --strict` passes as a whole, or the check fails.
    if (result.cliCode !== 0) {
      failures.push(`${variant}: cdk synth --strict exited ${result.cliCode}`);
      if (!library.length && !own.length) {
        log(indent(result.cliOutput.trim(), '    '));
      }
    }
  }
  return { target, lines, failures, results };
}

function indent(text, prefix) {
  return text.split('\n').map((l) => `${prefix}${l}`).join('\n');
}

function sortFindings(findings) {
  const key = (f) => `${f.source}\u0000${f.pack}\u0000${f.rule}\u0000${f.path}`;
  return [...findings].sort((a, b) => key(a).localeCompare(key(b)));
}

function describe(f) {
  const what = f.source === 'cdk-nag' ? `cdk-nag ${f.pack}` : f.source;
  return `[${what}] ${f.severity} ${f.rule}  ${f.path}  ${f.message.replace(/\s+/g, ' ')}`;
}

/** Compiles one variant of the consumer app against the installed package, synthesizes it with the CLI and reads its findings. */
async function checkVariant(app, variant) {
  const entry = VARIANTS[variant].entry;
  const tsconfig = `tsconfig.${variant}.json`;
  fs.writeFileSync(path.join(app, tsconfig), JSON.stringify({
    compilerOptions: { strict: true, target: 'ES2022', lib: ['es2022'], module: 'node16', moduleResolution: 'node16', skipLibCheck: true, types: [], outDir: 'out' },
    files: [entry],
  }, undefined, 2));
  const tsc = await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: app });
  if (tsc.code !== 0) {
    return { problem: `the app does not compile against this package (tsc -p ${tsconfig})`, output: tsc.output };
  }
  const outdir = `cdk.out.${variant}`;
  const cdk = path.join(app, 'node_modules', '.bin', 'cdk');
  const synth = await run(cdk, ['synth', '--app', `node out/${entry.replace(/\.ts$/, '.js')}`, '--output', outdir,
    '--strict', '--quiet', '--no-notices', '--no-ec2creds', '--context', VALIDATE_AS_ERRORS], { cwd: app, env: cliEnvironment() });
  if (!fs.existsSync(path.join(app, outdir, 'manifest.json'))) {
    return { problem: `cdk synth wrote no cloud assembly (exit ${synth.code})`, output: synth.output };
  }
  const validates = fs.existsSync(path.join(app, 'node_modules', 'aws-cdk-lib', 'core', 'lib', 'validation', 'cloudformation-validate-plugin.js'));
  return { ...readFindings(path.join(app, outdir)), validates, cliCode: synth.code, cliOutput: synth.output };
}

/** The app of the first check: every trigger, changedFiles and a nested stack, with a deprecated API making synthesis fail. */
async function checkBundle(app) {
  fs.mkdirSync(path.join(app, 'bundle-site'));
  fs.writeFileSync(path.join(app, 'bundle-site', 'index.html'), '<h1>hello</h1>');
  fs.writeFileSync(path.join(app, 'bundle-check.js'), `
    const { App, NestedStack, Stack } = require('aws-cdk-lib');
    const cloudfront = require('aws-cdk-lib/aws-cloudfront');
    const origins = require('aws-cdk-lib/aws-cloudfront-origins');
    const s3 = require('aws-cdk-lib/aws-s3');
    const s3deploy = require('aws-cdk-lib/aws-s3-deployment');
    const { Invalidation, InvalidationPaths, InvalidationTrigger } = require('cdk-cloudfront-invalidation');
    const app = new App({ outdir: 'cdk.out.package' });
    const stack = new Stack(app, 'Consumer');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: 'E123EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Invalidate', { distribution, paths: ['/index.html'] });
    const bucket = new s3.Bucket(stack, 'Site');
    const cdn = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deployment = new s3deploy.BucketDeployment(stack, 'Files', { sources: [s3deploy.Source.asset('bundle-site')], destinationBucket: bucket });
    new Invalidation(stack, 'OnDeployment', { distribution: cdn, trigger: InvalidationTrigger.onDeployment(deployment), paths: InvalidationPaths.changedFiles(deployment) });
    new Invalidation(stack, 'OnChange', { distribution: cdn, trigger: InvalidationTrigger.onChangeOf('v1'), paths: ['/api/*'] });
    new Invalidation(new NestedStack(stack, 'Nested'), 'InNested', { distribution: cdn });
    app.synth();
  `);
  const synth = await run(process.execPath, ['bundle-check.js'], { cwd: app, env: { ...process.env, JSII_DEPRECATED: 'fail' } });
  if (synth.code !== 0 || /deprecated/i.test(synth.output)) {
    return `the app did not synthesize cleanly under JSII_DEPRECATED=fail:\n${synth.output}`;
  }
  const out = path.join(app, 'cdk.out.package');
  const template = JSON.parse(fs.readFileSync(path.join(out, 'Consumer.template.json'), 'utf8'));
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  const assets = JSON.parse(fs.readFileSync(path.join(out, 'Consumer.assets.json'), 'utf8'));
  const asset = Object.values(assets.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === fn.Properties.Code.S3Key));
  if (!fs.readFileSync(path.join(out, asset.source.path, 'index.js')).equals(bundle)) {
    return 'the synthesized handler asset is not the bundled handler';
  }
  if (!Object.values(template.Resources).some((r) => r.Type === 'Custom::CloudFrontInvalidation')) {
    return 'no Custom::CloudFrontInvalidation in the template';
  }
  for (const chunk of CHUNKS) {
    if (!fs.readFileSync(path.join(out, asset.source.path, path.basename(chunk))).equals(fs.readFileSync(path.join(root, chunk)))) {
      return `the handler asset lacks ${path.basename(chunk)} as bundled`;
    }
  }
  return undefined;
}

/** Every finding on the library's resources, grouped by version, variant, pack and rule, with the stacks it appears in. */
function summary(outcomes) {
  const lines = [];
  for (const { target, results } of outcomes) {
    for (const result of results.filter((r) => r.findings)) {
      const library = result.findings.filter((f) => f.library);
      if (!library.length) {
        continue;
      }
      lines.push(`  aws-cdk-lib ${target.lib}, cdk-nag ${target.nag}, ${result.variant}:`);
      const groups = new Map();
      for (const f of sortFindings(library)) {
        const [stack, ...rest] = f.path.startsWith('(') ? [f.path] : f.path.split('/');
        const key = `${f.source === 'cdk-nag' ? f.pack : f.source}\u0000${f.severity} ${f.rule}  ${rest.length ? rest.join('/') : f.path}`;
        groups.set(key, [...(groups.get(key) ?? []), rest.length ? stack : '-']);
      }
      let pack;
      for (const [key, stacks] of groups) {
        const [group, what] = key.split('\u0000');
        if (group !== pack) {
          lines.push(`    ${group}:`);
          pack = group;
        }
        lines.push(`      ${what}  (${[...new Set(stacks)].join(', ')})`);
      }
    }
  }
  return lines;
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
