// Reads what a synthesized cloud assembly says about its resources: the warning and error
// annotations of every stack (cdk-nag 2's findings among them) and, from aws-cdk-lib versions that
// validate templates, the validation report (the CloudFormation Validate plugin's findings and those
// of policy validation plugins such as cdk-nag 3). Tells the library's resources from the app's by
// construct path: everything under an Invalidation or under the CloudFrontInvalidationProvider of a
// stack is the library's.
'use strict';

const fs = require('fs');
const path = require('path');

/** cdk-nag's packs, by the prefix of their rule ids and the name of their plugin. */
const NAG_PACKS = ['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];
const TEMPLATE_VALIDATION = 'CloudFormation Validate';
const PROVIDER_ID = 'CloudFrontInvalidationProvider';
const INVALIDATION_FQN = 'cdk-cloudfront-invalidation.Invalidation';

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The construct paths of the library's scopes: each Invalidation and each stack's provider. */
function libraryScopes(outdir) {
  const scopes = [];
  const visit = (node) => {
    if (node.constructInfo?.fqn === INVALIDATION_FQN || node.id === PROVIDER_ID) {
      scopes.push(node.path);
      return;
    }
    Object.values(node.children ?? {}).forEach(visit);
  };
  visit(readJson(path.join(outdir, 'tree.json')).tree);
  return scopes;
}

/** A rule id of cdk-nag (`AwsSolutions-IAM5[Resource::*]`) and its pack, or undefined. */
function nagRule(message) {
  const match = /^([A-Za-z0-9.]+)-([A-Za-z0-9]+(?:\[[^\]]*\])?): ([\s\S]*)$/.exec(message);
  if (!match || !NAG_PACKS.includes(match[1])) {
    return undefined;
  }
  return { pack: match[1], rule: `${match[1]}-${match[2]}`, message: match[3] };
}

/**
 * Every warning and error of the assembly in `outdir`, each as
 * `{ source, pack, rule, severity, path, message, library }`; the plugins of the validation report
 * (none where aws-cdk-lib writes none); and the library's scopes.
 */
function readFindings(outdir) {
  const manifest = readJson(path.join(outdir, 'manifest.json'));
  const scopes = libraryScopes(outdir);
  const ofLibrary = (p) => scopes.some((scope) => p === scope || p.startsWith(`${scope}/`));
  const findings = [];
  const add = (finding, unplaced = false) => findings.push({ ...finding, library: unplaced || ofLibrary(finding.path) });

  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') {
      continue;
    }
    // Older aws-cdk-lib keeps the metadata in the manifest, newer in a file of its own.
    const entries = Object.entries(artifact.metadata ?? {});
    if (artifact.additionalMetadataFile) {
      entries.push(...Object.entries(readJson(path.join(outdir, artifact.additionalMetadataFile))));
    }
    for (const [constructPath, list] of entries) {
      for (const entry of list) {
        const severity = { 'aws:cdk:warning': 'warning', 'aws:cdk:error': 'error' }[entry.type];
        if (!severity) {
          continue;
        }
        const message = typeof entry.data === 'string' ? entry.data : JSON.stringify(entry.data);
        const nag = nagRule(message);
        const p = constructPath.replace(/^\//, '');
        if (nag) {
          add({ source: 'cdk-nag', pack: nag.pack, rule: nag.rule, severity, path: p, message: nag.message });
        } else {
          const ack = /\[ack: ([^\]]+)\]\s*$/.exec(message);
          add({ source: 'annotation', pack: 'annotations', rule: ack ? ack[1] : '(annotation)', severity, path: p, message: message.replace(/\s*\[ack: [^\]]+\]\s*$/, '') });
        }
      }
    }
  }

  const reportFile = path.join(outdir, 'validation-report.json');
  const plugins = [];
  if (fs.existsSync(reportFile)) {
    for (const report of readJson(reportFile).pluginReports ?? []) {
      plugins.push(report.pluginName);
      const source = report.pluginName === TEMPLATE_VALIDATION ? 'template validation' : NAG_PACKS.includes(report.pluginName) ? 'cdk-nag' : 'validation plugin';
      for (const violation of report.violations ?? []) {
        const message = [violation.description, violation.suggestedFix && `(fix: ${violation.suggestedFix})`].filter(Boolean).join(' ');
        const where = violation.violatingConstructs ?? violation.violatingResources ?? [];
        for (const resource of where.length ? where : [{}]) {
          // A finding no construct path names is taken for the library's: nothing shows it is not.
          const cfn = resource.cloudFormationResource ?? resource;
          const p = resource.constructPath ?? `(${cfn.templatePath ?? 'a template'}${cfn.logicalId ? `: ${cfn.logicalId}` : ''})`;
          add({ source, pack: report.pluginName, rule: violation.ruleName, severity: violation.severity ?? 'error', path: p, message }, resource.constructPath === undefined);
        }
      }
    }
  }
  return { findings, plugins, scopes };
}

module.exports = { NAG_PACKS, TEMPLATE_VALIDATION, readFindings };
