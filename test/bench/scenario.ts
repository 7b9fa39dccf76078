/**
 * Item 4, correctness over ten deploys played by the lifecycle driver: no-op redeploys, content
 * changes, a redelivered request and a rollback, for our Invalidation and the three alternatives
 * (see alternatives.ts). Counts the invalidations created, the paths billed, and the stale deploys:
 * deploys that left a content change not followed by a covering purge (`uncoveredChanges`).
 */
import type { Contender } from './alternatives';
import { awsCustomResourceModel, bucketDeploymentModel, CONTENDERS, STACK_NAME, synthContender } from './alternatives';
import type { ItemResult, Row } from './stats';
import { logicalIdOf } from '../demo/app';
import { LifecycleDriver } from '../driver/driver';
import { uncoveredChanges } from '../driver/invariants';
import type { CustomResourceCall, CustomResourceModel } from '../driver/options';
import type { StepReport } from '../driver/reports';

const REPRODUCE = 'npm run bench -- scenario';

type Step =
  | { readonly title: string; readonly site: string; readonly failAfterPurge?: boolean }
  | { readonly title: string; readonly redeliver: true };

/** The ten deploys. */
export const STEPS: readonly Step[] = [
  { title: 'first deploy, site v1', site: 'v1' },
  { title: 'redeploy, nothing changed', site: 'v1' },
  { title: 'new content, v2', site: 'v2' },
  { title: 'the last request delivered again', redeliver: true },
  { title: 'redeploy, nothing changed', site: 'v2' },
  { title: 'v3 fails after the purge, rolls back to v2', site: 'v3', failAfterPurge: true },
  { title: 'redeploy v2, nothing changed', site: 'v2' },
  { title: 'new content, v3', site: 'v3' },
  { title: 'redeploy, nothing changed', site: 'v3' },
  { title: 'new content, back to v1', site: 'v1' },
];

export interface StepOutcome {
  readonly title: string;
  readonly invalidations: number;
  readonly paths: number;
  readonly contentChanges: number;
  readonly uncovered: readonly string[];
}

/** Plays the ten deploys for one contender on a fresh local cloud. */
export async function playScenario(contender: Contender): Promise<StepOutcome[]> {
  const models: Record<string, CustomResourceModel> = {};
  let lastCall: { type: string; call: CustomResourceCall } | undefined;
  const remember = (type: string, model: (endpoint: string) => CustomResourceModel) => {
    models[type] = async (call) => {
      lastCall = { type, call };
      await model(driver.cloud.cloudfront.endpoint)(call);
    };
  };
  if (contender === 'bucketDeployment') {
    remember('Custom::CDKBucketDeployment', bucketDeploymentModel);
  } else if (contender !== 'ours') {
    remember('Custom::AWS', awsCustomResourceModel);
  }
  const driver = await LifecycleDriver.start({ cloud: { cloudfront: { completionDelayMs: 200 } }, customResources: models });
  if (contender !== 'ours') {
    // The alternatives' handlers run with IAM this driver does not model.
    driver.cloud.authorizer = () => true;
  }
  const outcomes: StepOutcome[] = [];
  try {
    for (const step of STEPS) {
      const before = driver.cloud.cloudfront.invalidations().length;
      let report: StepReport | undefined;
      if ('redeliver' in step) {
        if (contender === 'ours') {
          report = await driver.redeliverLast(STACK_NAME);
        } else if (lastCall) {
          await models[lastCall.type]({ ...lastCall.call, phase: 'redelivery' });
        }
      } else {
        const synthesized = synthContender(contender, step.site, step.failAfterPurge);
        report = await driver.deploy(synthesized, step.failAfterPurge ? { fail: [logicalIdOf(synthesized, 'AfterPurge')] } : {});
      }
      const created = driver.cloud.cloudfront.invalidations().slice(before);
      outcomes.push({
        title: step.title,
        invalidations: created.length,
        paths: created.reduce((n, i) => n + i.paths.length, 0),
        contentChanges: report?.content.length ?? 0,
        uncovered: report ? uncoveredChanges(report, (d) => driver.cloud.cloudfront.hasDistribution(d)) : [],
      });
    }
  } finally {
    await driver.close();
  }
  return outcomes;
}

export async function scenario(): Promise<ItemResult> {
  console.log(`\n4. Correctness over ${STEPS.length} deploys`);
  const rows: Row[] = [];
  const lines: string[] = [];
  const changes = new Map<Contender, number>();
  for (const contender of Object.keys(CONTENDERS) as Contender[]) {
    const outcomes = await playScenario(contender);
    const invalidations = outcomes.reduce((n, o) => n + o.invalidations, 0);
    const paths = outcomes.reduce((n, o) => n + o.paths, 0);
    const stale = outcomes.filter((o) => o.uncovered.length > 0);
    const needless = outcomes.filter((o) => o.contentChanges === 0).reduce((n, o) => n + o.invalidations, 0);
    changes.set(contender, outcomes.reduce((n, o) => n + o.contentChanges, 0));
    rows.push({
      section: '4 ten deploys',
      measure: CONTENDERS[contender],
      value: `${stale.length} stale`,
      compared: `${invalidations} invalidations (${needless} on deploys that changed no content), ${paths} paths billed; `
        + `stale deploys: ${stale.map((o) => outcomes.indexOf(o) + 1).join(', ') || 'none'}`,
      reproduce: REPRODUCE,
    });
    lines.push(`- ${CONTENDERS[contender]}: ${outcomes.map((o, i) => `${i + 1}. ${o.invalidations}${o.uncovered.length ? ' stale' : ''}`).join('; ')}`);
    console.log(`  ${rows[rows.length - 1].measure}: ${rows[rows.length - 1].value}, ${rows[rows.length - 1].compared}`);
  }
  const details = [
    '### The ten deploys (item 4)',
    '',
    ...STEPS.map((s, i) => `${i + 1}. ${s.title}`),
    '',
    'Invalidations each deploy created, and which deploys left content stale:',
    '',
    ...lines,
  ].join('\n');
  return { rows, details };
}
