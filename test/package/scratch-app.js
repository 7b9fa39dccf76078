// The scratch apps of the package check, in the temporary folder: each installs the packed library
// next to one aws-cdk-lib, cdk-nag and the aws-cdk CLI, and gets the consumer app's files. The
// folders are removed, and the commands run in them stopped, however the check ends.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const semver = require('semver');

const CONSUMER = path.join(__dirname, 'consumer');
/** The stacks' environment has a VPC in the compliance variant: its availability zones, as `cdk context` would keep them. */
const CONTEXT = { 'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] };

/** The scratch folders made so far, and the commands running in them. */
const scratch = [];
const children = new Set();

/** Stops every command still running and removes every scratch folder. */
function removeScratch() {
  for (const child of children) {
    stop(child);
  }
  for (const dir of scratch.splice(0)) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes the scratch folders when the check ends, on a signal too. */
function removeScratchOnExit() {
  process.on('exit', removeScratch);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => process.exit(130));
  }
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

/**
 * A scratch app for one target (aws-cdk-lib, cdk-nag and CLI versions) with the tarball installed:
 * resolves to its folder and the install's exit code and output.
 */
async function installApp(target, tarball) {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), `consumer-${target.lib}-`));
  scratch.push(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'consumer',
    private: true,
    dependencies: { 'aws-cdk-lib': target.lib, 'constructs': '^10.0.5', 'cdk-nag': target.nag, 'cdk-cloudfront-invalidation': `file:${tarball}` },
    devDependencies: { 'aws-cdk': target.cli },
  }, undefined, 2));
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], { cwd: app });
  return { app, install };
}

/** Puts the consumer app (test/package/consumer/) in a scratch app, with the cdk-nag glue of its major version. */
function addConsumer(app, nag) {
  for (const file of ['site.ts', 'defaults.ts', 'compliance.ts']) {
    fs.copyFileSync(path.join(CONSUMER, file), path.join(app, file));
  }
  fs.copyFileSync(path.join(CONSUMER, `nag-v${semver.major(nag)}.ts`), path.join(app, 'nag.ts'));
  fs.mkdirSync(path.join(app, 'site'), { recursive: true });
  fs.writeFileSync(path.join(app, 'site', 'index.html'), '<h1>hello</h1>');
  fs.writeFileSync(path.join(app, 'cdk.context.json'), JSON.stringify(CONTEXT, undefined, 2));
}

module.exports = { addConsumer, installApp, removeScratchOnExit, run };
