/**
 * Pure helpers of `npm run bench`: medians, ratios, alternating runs, units and the results table.
 */

/** The median of some numbers (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new Error('the median of no values');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `a / b` as "0.62x", from medians measured side by side. */
export function ratio(a: number, b: number): string {
  return b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`;
}

/**
 * Runs each of the named commands `rounds` times, alternating, with the order rotated every round
 * so that none always runs first on a machine whose load drifts. Returns the samples by name.
 */
export async function alternate<K extends string>(
  rounds: number, commands: Readonly<Record<K, () => Promise<number>>>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(commands) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      samples[name].push(await commands[name]());
    }
  }
  return samples;
}

/** The calls as a short sequence: runs of the same operation (and error) counted, e.g. "List x3, Create". */
export function callSequence(calls: ReadonlyArray<{ readonly operation: string; readonly errorCode?: string }>): string {
  const names = calls.map((c) => `${c.operation.replace(/Invalidations?$/, '')}${c.errorCode ? ` (${c.errorCode})` : ''}`);
  const out: string[] = [];
  for (let i = 0; i < names.length;) {
    let j = i;
    while (j < names.length && names[j] === names[i]) {
      j++;
    }
    out.push(j - i > 1 ? `${names[i]} x${j - i}` : names[i]);
    i = j;
  }
  return out.join(', ');
}

export const ms = (n: number): string => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
export const seconds = (n: number): string => `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
export const kb = (n: number): string => `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} KB`;
export const count = (n: number): string => n.toLocaleString('en');

/** One row of the results: what, the figure, what it is compared with, and how to get it again. */
export interface Row {
  readonly section: string;
  readonly measure: string;
  readonly value: string;
  readonly compared?: string;
  readonly reproduce: string;
}

/** What an item of the bench gives: its rows, and optionally a Markdown section of details for RESULTS.md. */
export interface ItemResult {
  readonly rows: readonly Row[];
  readonly details?: string;
}

/** The rows as a Markdown table; pipes inside cells are escaped. */
export function renderTable(rows: readonly Row[]): string {
  const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '| Item | Measure | Value | Compared | Reproduce |',
    '| --- | --- | ---: | --- | --- |',
    ...rows.map((r) => `| ${cell(r.section)} | ${cell(r.measure)} | ${cell(r.value)} | ${cell(r.compared)} | \`${cell(r.reproduce)}\` |`),
  ];
  return lines.join('\n');
}

/** The rows as aligned plain text, for the terminal. */
export function renderText(rows: readonly Row[]): string {
  const width = (pick: (r: Row) => string) => Math.max(...rows.map((r) => pick(r).length));
  const w = [width((r) => r.section), width((r) => r.measure), width((r) => r.value)];
  return rows.map((r) => `${r.section.padEnd(w[0])}  ${r.measure.padEnd(w[1])}  ${r.value.padStart(w[2])}  ${r.compared ?? ''}`.trimEnd()).join('\n');
}
