// The package check's report of findings: each variant's findings on the library's resources and
// on the app's own, with what fails the check, and at the end every finding on the library's
// resources grouped by version, variant, pack and rule.
'use strict';

const { TEMPLATE_VALIDATION } = require('./findings');

/**
 * The report lines of one variant's result, and its failures: a variant that did not synthesize,
 * any finding on the library's resources, template validation that did not run, or `cdk synth
 * --strict` failing.
 */
function reportVariant(result, lib) {
  const lines = [];
  const log = (line = '') => lines.push(line);
  const failures = [];
  const { variant } = result;
  if (result.problem) {
    failures.push(`${variant}: ${result.problem}`);
    log(`  FAILED: ${result.problem}`);
    if (result.output) {
      log(indent(result.output.trim(), '    '));
    }
    return { lines, failures };
  }
  const library = result.findings.filter((f) => f.library);
  const own = result.findings.filter((f) => !f.library);
  log(`  cdk synth --strict exited ${result.cliCode}`);
  log(`  ${library.length} finding(s) on the library's resources${library.length ? ':' : ''}`);
  for (const f of sortFindings(library)) {
    log(`    ${describeFinding(f)}`);
  }
  log(`  ${own.length} unacknowledged finding(s) on the app's own resources${own.length ? ':' : ''}`);
  for (const f of sortFindings(own)) {
    log(`    ${describeFinding(f)}`);
  }
  if (result.validates && !result.plugins.includes(TEMPLATE_VALIDATION)) {
    failures.push(`${variant}: aws-cdk-lib ${lib} has template validation, but it did not run`);
    log(`  FAILED: aws-cdk-lib ${lib} has template validation, but the validation report has no ${TEMPLATE_VALIDATION}`);
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
  return { lines, failures };
}

/** Each line of a text behind a prefix. */
function indent(text, prefix) {
  return text.split('\n').map((l) => `${prefix}${l}`).join('\n');
}

/** Findings in a stable order: by source, pack, rule and construct path. */
function sortFindings(findings) {
  const key = (f) => `${f.source}\u0000${f.pack}\u0000${f.rule}\u0000${f.path}`;
  return [...findings].sort((a, b) => key(a).localeCompare(key(b)));
}

function describeFinding(f) {
  const what = f.source === 'cdk-nag' ? `cdk-nag ${f.pack}` : f.source;
  return `[${what}] ${f.severity} ${f.rule}  ${f.path}  ${f.message.replace(/\s+/g, ' ')}`;
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

module.exports = { reportVariant, summary };
