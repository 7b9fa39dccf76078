/**
 * bench/RESULTS.md: the table `npm run bench` printed, with how it was measured.
 */
import type { Row } from './stats';
import { renderTable } from './stats';

export function resultsPage(rows: readonly Row[], details: readonly string[], run: { seconds: number; machine: string }): string {
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${run.machine}, in ${run.seconds.toFixed(0)} s. Timings are medians of`,
    'runs alternated with what they are compared with, in the same run; compare them within this table, not across machines.',
    '',
    renderTable(rows),
    '',
    ...details.flatMap((d) => [d, '']),
  ].join('\n');
}
