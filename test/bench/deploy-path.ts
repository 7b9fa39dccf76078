/**
 * Item 3, the deploy path: the CloudFront calls our handler makes for one Create of 1, 3000, 10,000
 * and 30,000 paths, waiting for completion off and on, and the emulated wall time from the request
 * to its answer, beside the floor (one CreateInvalidation per 3000 paths); on a fresh distribution
 * and on one with 300 finished invalidations of history.
 */
import type { ItemResult, Row } from './stats';
import { callSequence, seconds } from './stats';
import type { SynthesizedStack } from '../driver/assembly';
import { requests, SITE, STACK_ID, synthHandlerStack } from '../driver/handler-fixture';
import { deployInvalidationHandler, LocalCloud } from '../driver/local-cloud';
import type { RecordedRequest } from '../emulator/cloudfront';

const REPRODUCE = 'npm run bench -- deploy-path';
/** How long an invalidation stays InProgress in the emulator. */
export const COMPLETION_MS = 300;
const HISTORY = 300;
const SIZES = [1, 3000, 10_000, 30_000];

export interface DeployCase {
  readonly paths: number;
  readonly wait: boolean;
  readonly history: number;
  readonly ms: number;
  readonly status: string;
  readonly calls: readonly RecordedRequest[];
}

/** The floor: one CreateInvalidation per 3000 paths. */
export function floorCalls(paths: number): number {
  return Math.ceil(paths / 3000);
}

async function runCase(synthesized: SynthesizedStack, paths: number, wait: boolean, history: number): Promise<DeployCase> {
  const cloud = await LocalCloud.start({ cloudfront: { completionDelayMs: COMPLETION_MS } });
  try {
    cloud.cloudfront.addDistribution({ id: SITE });
    for (let i = 0; i < history; i++) {
      cloud.cloudfront.seedInvalidation(SITE, [`/history/${i}`], 0);
    }
    const fn = deployInvalidationHandler(cloud, synthesized, STACK_ID);
    const list = paths === 1 ? ['/index.html'] : Array.from({ length: paths }, (_, i) => `/p/${i}`);
    const request = requests(fn.arn).create({ Paths: list, WaitForCompletion: String(wait), TimeoutSeconds: '1800' });
    const start = Date.now();
    const { answer } = await cloud.request(fn.name, request, 600_000);
    const ms = Date.now() - start;
    return { paths, wait, history, ms, status: answer.Status, calls: [...cloud.cloudfront.requests] };
  } finally {
    await cloud.close();
  }
}

export async function deployPath(): Promise<ItemResult> {
  console.log(`\n3. Deploy path: one Create, completion after ${COMPLETION_MS} ms`);
  const synthesized = synthHandlerStack();
  const cases: DeployCase[] = [];
  const rows: Row[] = [];
  for (const history of [0, HISTORY]) {
    for (const paths of SIZES) {
      for (const wait of [false, true]) {
        const c = await runCase(synthesized, paths, wait, history);
        cases.push(c);
        const floor = floorCalls(paths);
        const creates = c.calls.filter((r) => r.operation === 'CreateInvalidation' && !r.errorCode).length;
        const lists = c.calls.filter((r) => r.operation === 'ListInvalidations').length;
        const gets = c.calls.filter((r) => r.operation === 'GetInvalidation').length;
        const refused = c.calls.filter((r) => r.errorCode === 'TooManyInvalidationsInProgress').length;
        const target = paths === 1 ? 3 : floor * 2;
        rows.push({
          section: '3 deploy path',
          measure: `${paths.toLocaleString('en')} path${paths === 1 ? '' : 's'}, wait ${wait ? 'on' : 'off'}, ${history ? `${history} finished before` : 'no history'}`,
          value: `${c.calls.length} calls`,
          compared: `floor ${floor}; ${creates} Create, ${lists} List, ${gets} Get, ${refused} refused; ${seconds(c.ms)} to ${c.status}`
            + (wait ? '' : `; target ${target}: ${c.calls.length <= target ? 'met' : 'not met'}`),
          reproduce: REPRODUCE,
        });
        console.log(`  ${rows[rows.length - 1].measure}: ${callSequence(c.calls)}`);
      }
    }
  }
  const details = [
    '### The CloudFront calls of each Create (item 3)',
    '',
    `From the emulator's request log, in order; completion after ${COMPLETION_MS} ms; "refused" is TooManyInvalidationsInProgress.`,
    '',
    ...cases.map((c) => `- ${c.paths.toLocaleString('en')} path(s), wait ${c.wait ? 'on' : 'off'}, ${c.history ? `${c.history} finished before` : 'no history'}: ${callSequence(c.calls)}`),
  ].join('\n');
  return { rows, details };
}
