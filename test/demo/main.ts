/**
 * `npm run demo`: deploys the example site several times against the local CloudFront, Lambda,
 * CloudFormation and EventBridge stand-ins, printing for each deployment what changed, the stack's
 * statuses, what CloudFormation asked of the Invalidation, what the stack's rule handed the handler
 * after a rollback, and which invalidations CloudFront received. Exits non-zero if any outcome is
 * not what the invariants promise.
 */
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { logicalIdOf, STACK_NAME, synthSite } from './app';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import type { SynthesizedStack } from '../driver/assembly';
import { removeOutdirs } from '../driver/assembly';
import { LifecycleDriver } from '../driver/driver';
import { InvariantChecker } from '../driver/invariants';
import type { ResourceChange, StepReport } from '../driver/reports';

interface Scenario {
  readonly title: string;
  readonly expected: number;
  readonly run: (driver: LifecycleDriver) => Promise<StepReport>;
  /** Further checks of this scenario's outcome, as sentences describing what went wrong. */
  readonly check?: (report: StepReport, driver: LifecycleDriver) => string[];
}

const scenarios: Scenario[] = [
  {
    title: 'First deploy: site v1',
    expected: 1,
    run: (d) => d.deploy(synthSite({ site: 'v1' })),
    check: (r) => expectStatus(r, 'CREATE_COMPLETE'),
  },
  {
    title: 'Redeploy with nothing changed',
    expected: 0,
    run: (d) => d.deploy(synthSite({ site: 'v1' })),
    check: (r) => [
      ...expectStatus(r, 'CREATE_COMPLETE'),
      ...(r.events.length > 0 ? ['CloudFormation should have had no update to perform'] : []),
      ...(r.requests.length > 0 ? ['CloudFormation should not have called the Invalidation'] : []),
    ],
  },
  {
    title: 'Site content changed: v1 to v2',
    expected: 1,
    run: (d) => d.deploy(synthSite({ site: 'v2' })),
    check: (r) => [...expectStatus(r, 'UPDATE_COMPLETE'), ...purgedAfterContent(r)],
  },
  {
    title: 'The last request delivered again (Lambda retries)',
    expected: 0,
    run: (d) => d.redeliverLast(STACK_NAME),
    check: (r) => (r.requests[0]?.answer?.Status === 'SUCCESS' ? [] : ['the redelivered request should succeed again']),
  },
  {
    title: 'Deploy of v3 fails after the purge and rolls back to v2',
    expected: 2,
    run: (d) => {
      const failing = synthSite({ site: 'v3', recordPurge: true });
      return d.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });
    },
    check: (r, d) => {
      const problems = [...expectStatus(r, 'UPDATE_ROLLBACK_COMPLETE'), ...purgedByRuleAfterRevert(r)];
      const afterRevert = fromRule(r)[0];
      const earlier = d.steps.flatMap((s) => s.invalidations).filter((i) => !r.invalidations.includes(i)).map((i) => i.callerReference);
      if (afterRevert && earlier.includes(afterRevert.callerReference)) {
        problems.push('the purge after the rollback reused a CallerReference');
      }
      return problems;
    },
  },
  {
    title: 'Deploy of v3 fails before the purge and rolls back to v2',
    expected: 1,
    run: (d) => {
      const failing = withVersion('v3');
      return d.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });
    },
    check: (r) => [...expectStatus(r, 'UPDATE_ROLLBACK_COMPLETE'), ...purgedByRuleAfterRevert(r)],
  },
  {
    title: 'Deploy of v3 fails, and so does its rollback of the files',
    expected: 0,
    run: (d) => {
      const failing = withVersion('v3');
      return d.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], failRollback: [bucketDeploymentOf(failing)] });
    },
    check: (r) => [...expectStatus(r, 'UPDATE_ROLLBACK_FAILED'), ...(r.deliveries.length > 0 ? ['the rule should not act before the rollback is complete'] : [])],
  },
  {
    title: 'ContinueUpdateRollback, later: the files go back to v2',
    expected: 1,
    run: (d) => d.continueUpdateRollback(STACK_NAME),
    check: (r) => [...expectStatus(r, 'UPDATE_ROLLBACK_COMPLETE'), ...purgedByRuleAfterRevert(r)],
  },
  {
    title: 'Deploy of v3 with --no-rollback fails before the purge: the stack stops at UPDATE_FAILED with v3',
    expected: 1,
    run: (d) => {
      const failing = withVersion('v3');
      return d.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], disableRollback: true });
    },
    check: (r) => [...expectStatus(r, 'UPDATE_FAILED'), ...purgedByRuleAfterLastContent(r, 'UPDATE_FAILED')],
  },
  {
    title: 'cdk rollback, later: the files go back to v2',
    expected: 1,
    run: (d) => d.rollbackStack(STACK_NAME),
    check: (r) => [...expectStatus(r, 'UPDATE_ROLLBACK_COMPLETE'), ...purgedByRuleAfterRevert(r)],
  },
  {
    title: 'Stack deleted',
    expected: 0,
    run: (d) => d.destroy(STACK_NAME),
    check: (r) => [...expectStatus(r, 'DELETE_COMPLETE'), ...(r.requests.some((q) => q.requestType === 'Delete') ? [] : ['the Invalidation got no Delete'])],
  },
  {
    title: 'Site v3 deployed anew, purging only the files that change (InvalidationPaths.changedFiles)',
    expected: 1,
    run: (d) => d.deploy(synthSite({ site: 'v3', changedFiles: { indexDocument: 'index.html' } })),
    check: (r) => [...expectStatus(r, 'CREATE_COMPLETE'), ...purgedPaths(r, ['/*'])],
  },
  {
    title: 'One file changed (style.css): v3 to v4',
    expected: 1,
    run: (d) => d.deploy(synthSite({ site: 'v4', changedFiles: { indexDocument: 'index.html' } })),
    check: (r) => [...expectStatus(r, 'UPDATE_COMPLETE'), ...purgedPaths(r, ['/style.css']), ...purgedAfterContent(r)],
  },
  {
    title: 'Stack deleted again',
    expected: 0,
    run: (d) => d.destroy(STACK_NAME),
    check: (r) => expectStatus(r, 'DELETE_COMPLETE'),
  },
];

/** CloudFront received exactly these paths, in one invalidation. */
function purgedPaths(r: StepReport, paths: string[]): string[] {
  const got = r.invalidations.map((i) => [...i.paths].sort().join(' '));
  return got.length === 1 && got[0] === paths.join(' ') ? [] : [`CloudFront should have received exactly ${paths.join(' ')}, got ${got.join('; ') || 'nothing'}`];
}

function withVersion(site: string): SynthesizedStack {
  return synthSite({ site, extend: (stack) => new ssm.StringParameter(stack, 'Version', { stringValue: site }) });
}

function bucketDeploymentOf(stack: SynthesizedStack): string {
  return Object.keys(stack.template.Resources).find((id) => stack.template.Resources[id].Type === 'Custom::CDKBucketDeployment')!;
}

/** One invalidation by the stack's rule after `status`, after the step's last change of content. */
function purgedByRuleAfterLastContent(r: StepReport, status: string): string[] {
  const reached = r.events.find((e) => e.stackName === STACK_NAME && e.status === status)?.reachedAt;
  const last = Math.max(...r.content.map((c) => c.landedAt));
  const purges = reached === undefined ? [] : r.invalidations.filter((i) => i.createdAtRequest > reached && i.createdAtRequest > last);
  return purges.length === 1 ? [] : [`the stack's rule made ${purges.length} invalidation(s) after ${status} and the last files, 1 expected`];
}

/** When the stack reached UPDATE_ROLLBACK_COMPLETE, the status the stack's rule acts on. */
function rollbackComplete(r: StepReport): number | undefined {
  return r.events.find((e) => e.stackName === STACK_NAME && e.status === 'UPDATE_ROLLBACK_COMPLETE')?.reachedAt;
}

/** The invalidations made after the stack's rule was handed UPDATE_ROLLBACK_COMPLETE. */
function fromRule(r: StepReport) {
  const complete = rollbackComplete(r);
  return complete === undefined ? [] : r.invalidations.filter((i) => i.createdAtRequest > complete);
}

function purgedByRuleAfterRevert(r: StepReport): string[] {
  const revert = [...r.content].reverse().find((c) => c.phase === 'rollback');
  if (!revert) {
    return ['the rollback did not put the files back'];
  }
  const purges = fromRule(r).filter((i) => i.createdAtRequest > revert.landedAt);
  return purges.length === 1 ? [] : [`the stack's rule made ${purges.length} invalidation(s) after the files were back, 1 expected`];
}

function expectStatus(r: StepReport, status: string): string[] {
  return r.stackStatus === status ? [] : [`the stack ended ${r.stackStatus}, not ${status}`];
}

function purgedAfterContent(r: StepReport): string[] {
  const landed = Math.max(...r.content.map((c) => c.landedAt));
  return r.invalidations.every((i) => i.createdAtRequest > landed) ? [] : ['an invalidation was created before the new files landed'];
}

const VERBS: Record<ResourceChange['action'], string> = { create: 'created', update: 'updated', delete: 'deleted', fail: 'failed', revert: 'reverted', skip: 'skipped' };

function describeChanges(r: StepReport): string {
  const counts = new Map<string, number>();
  for (const c of r.changes.filter((x) => x.type !== RESOURCE_TYPE)) {
    counts.set(VERBS[c.action], (counts.get(VERBS[c.action]) ?? 0) + 1);
  }
  const parts = [...counts].map(([verb, n]) => `${n} ${n === 1 ? 'resource' : 'resources'} ${verb}`);
  for (const c of r.content) {
    parts.push(`${c.phase === 'rollback' ? 'rollback put back' : 'bucket now holds'} site files ${c.version}`);
  }
  return parts.length ? parts.join('; ') : 'nothing';
}

function describeRequests(r: StepReport): string[] {
  if (r.requests.length === 0) {
    return ['(not called: its properties did not change)'];
  }
  return r.requests.map((q) => {
    const status = q.answer ? `${q.answer.Status}${q.answer.Data?.Status ? ` (${q.answer.Data.Status})` : ''}` : 'NO ANSWER';
    const note = q.answer?.Data?.PathsNote ? ` [${q.answer.Data.PathsNote}]` : '';
    return `${q.requestType.padEnd(6)} ${q.logicalId.padEnd(28)} during ${q.stackStatus.padEnd(28)} -> ${status}${q.answer?.Reason ? `: ${q.answer.Reason}` : ''}${note}`;
  });
}

function describeStatuses(r: StepReport): string {
  return r.events.filter((e) => e.stackName === STACK_NAME).map((e) => e.status).join(' > ') || '(unchanged)';
}

function describeDeliveries(r: StepReport): string[] {
  if (r.deliveries.length === 0) {
    return ['(nothing: its rule acts on UPDATE_ROLLBACK_COMPLETE, UPDATE_FAILED and CREATE_FAILED only)'];
  }
  return r.deliveries.map((d) => {
    const purge = (d.payload as { rollbackPurge?: { targets?: Array<{ DistributionId: string; Paths: string[] }> } }).rollbackPurge;
    const targets = (purge?.targets ?? []).map((t) => `${t.DistributionId} ${t.Paths.join(' ')}`).join('; ');
    const outcome = d.outcome === 'invoked' ? (d.handled ? 'handled' : `not handled after ${d.attempts} attempt(s)`) : `${d.outcome}: ${d.reason}`;
    return `${d.status} event ${d.eventId.slice(0, 8)} -> purge of ${targets} and what the failed deploy named -> ${outcome}`;
  });
}

function describeInvalidations(r: StepReport): string[] {
  if (r.invalidations.length === 0) {
    return ['(none)'];
  }
  const complete = rollbackComplete(r);
  return r.invalidations.map((i) => {
    // The files an invalidation purges are the last ones that landed before it.
    const landed = r.content.filter((c) => c.landedAt < i.createdAtRequest).pop();
    const what = landed ? `, purging site files ${landed.version}${landed.phase === 'rollback' ? ' (put back by the rollback)' : ''}` : '';
    const by = complete !== undefined && i.createdAtRequest > complete ? ', by the stack\'s rule after UPDATE_ROLLBACK_COMPLETE' : '';
    return `${i.id}  paths ${i.paths.join(' ')}  CallerReference ${i.callerReference}${what}${by}`;
  });
}

function row(label: string, lines: string[]): void {
  lines.forEach((line, i) => console.log(`   ${(i === 0 ? label : '').padEnd(20)} ${line}`));
}

async function main(): Promise<number> {
  const started = Date.now();
  const driver = await LifecycleDriver.start({ cloud: { cloudfront: { completionDelayMs: 250 } } });
  const checker = new InvariantChecker(driver.cloud.cloudfront);
  const summary: string[][] = [];
  let failures = 0;
  try {
    for (const [n, scenario] of scenarios.entries()) {
      const stepStarted = Date.now();
      const report = await scenario.run(driver);
      const problems = [...checker.check(report), ...(scenario.check?.(report, driver) ?? [])];
      if (report.invalidations.length !== scenario.expected) {
        problems.push(`CloudFront received ${report.invalidations.length} invalidation(s), ${scenario.expected} expected`);
      }
      failures += problems.length > 0 ? 1 : 0;
      console.log(`\n${n + 1}. ${scenario.title}  [${report.stackStatus}, ${Date.now() - stepStarted} ms]`);
      row('What changed', [describeChanges(report)]);
      row('Stack statuses', [describeStatuses(report)]);
      row('CloudFormation asked', describeRequests(report));
      row('The stack\'s rule', describeDeliveries(report));
      row('CloudFront received', describeInvalidations(report));
      row('Verdict', problems.length ? problems.map((p) => `FAIL: ${p}`) : [`ok: ${report.invalidations.length} invalidation(s), as the invariants promise`]);
      summary.push([String(n + 1), scenario.title, report.stackStatus, String(scenario.expected), String(report.invalidations.length), problems.length ? 'FAIL' : 'ok']);
    }
  } finally {
    await driver.close();
    removeOutdirs();
  }
  const header = ['#', 'Deployment', 'Stack status', 'Expected', 'Received', 'Verdict'];
  const widths = header.map((h, i) => Math.max(h.length, ...summary.map((r) => r[i].length)));
  const line = (cells: string[]) => console.log(`  ${cells.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
  console.log('\nSummary (invalidations CloudFront received per deployment)');
  line(header);
  line(widths.map((w) => '-'.repeat(w)));
  summary.forEach(line);
  console.log(`\n${failures === 0 ? 'All deployments behaved as promised' : `${failures} deployment(s) did not behave as promised`} (${((Date.now() - started) / 1000).toFixed(1)} s).`);
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
