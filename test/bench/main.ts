/**
 * `npm run bench [-- item ...]`: how this library compares with what users would pick instead,
 * measured side by side in one run on this machine, as medians and ratios. With no item named it
 * runs them all and writes the table to bench/RESULTS.md; naming items (cold-start, synth,
 * deploy-path, scenario, over-invalidation) prints theirs only. Everything it makes goes in a
 * temporary folder of its own, removed at the end.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { coldStart } from './cold-start';
import { deployPath } from './deploy-path';
import { overInvalidation } from './over-invalidation';
import { resultsPage } from './results';
import { scenario } from './scenario';
import type { ItemResult, Row } from './stats';
import { renderText } from './stats';
import { synthesis } from './synth';
import { removeOutdirs } from '../driver/assembly';

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'RESULTS.md');

/** The items, in the order they run. */
const ITEMS: Record<string, () => Promise<ItemResult>> = {
  'cold-start': coldStart,
  'synth': synthesis,
  'deploy-path': deployPath,
  'scenario': scenario,
  // Unchanged objects purged per deploy by /*, per-file and collapsed paths (test/bench/over-invalidation.ts).
  'over-invalidation': overInvalidation,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in ITEMS));
  if (unknown.length > 0) {
    throw new Error(`unknown item(s) ${unknown.join(', ')}: pick from ${Object.keys(ITEMS).join(', ')}`);
  }
  // A temporary folder of the run's own, which TMPDIR points to for it and every process it starts.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cloudfront-invalidation-bench-'));
  process.env.TMPDIR = tmp;
  const started = Date.now();
  const rows: Row[] = [];
  const details: string[] = [];
  try {
    for (const name of names.length > 0 ? names : Object.keys(ITEMS)) {
      const result = await ITEMS[name]();
      console.log(renderText(result.rows));
      rows.push(...result.rows);
      if (result.details) {
        details.push(result.details);
      }
    }
  } finally {
    removeOutdirs();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n${renderText(rows)}\n\nTook ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  if (names.length === 0) {
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, resultsPage(rows, details, { seconds: (Date.now() - started) / 1000, machine: machine() }));
    console.log(`Wrote ${path.relative(ROOT, RESULTS)}.`);
  }
}

function machine(): string {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
