/**
 * Over-invalidation: the unchanged objects a deploy purges, for three ways of choosing the paths:
 * `/*`, one path per changed file, and `InvalidationPaths.changedFiles` (the changed files,
 * collapsed into directory wildcards under the 3000-path budget). Pure: synthetic manifests
 * compared the way the handler compares them (lambda/invalidation/changed-paths.ts); nothing is written to disk.
 *
 * Run alone: `npx ts-node --transpile-only --project test/tsconfig.json test/bench/over-invalidation.ts`.
 * In `npm run bench`, `overInvalidation()` gives the rows (item 5 of RESULTS.md).
 */
import type { ItemResult, Row } from './stats';
import { renderText } from './stats';
import { planChangedFiles } from '../../lambda/invalidation/changed-paths';
import type { FileManifest } from '../../src/shared/file-manifest';
import { MAX_PATHS_PER_REQUEST } from '../../src/shared/paths';

const REPRODUCE = 'npx ts-node --transpile-only --project test/tsconfig.json test/bench/over-invalidation.ts';

/** One site and deploy: its files, and which of them the deploy changed. */
export interface SiteCase {
  readonly name: string;
  readonly files: readonly string[];
  readonly changed: ReadonlySet<string>;
}

/** What a way of choosing paths gives for one deploy. */
export interface Outcome {
  readonly paths: number;
  readonly wildcards: number;
  /** Unchanged objects purged. */
  readonly overInvalidated: number;
  /** Changed objects left in the caches: must be 0. */
  readonly missed: number;
}

/** A site of `total` pages in 20 sections of 25 groups: `/section-s/group-g/page-i.html`. */
function pages(total: number): string[] {
  return Array.from({ length: total }, (_, i) => `section-${i % 20}/group-${Math.floor(i / 20) % 25}/page-${i}.html`);
}

/** A seeded generator, the same on every machine. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    // eslint-disable-next-line no-bitwise
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** `count` files picked at random (seeded) among those `eligible`. */
function pick(files: readonly string[], count: number, seed: number, eligible: (f: string) => boolean = () => true): Set<string> {
  const pool = files.filter(eligible);
  const next = lcg(seed);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return new Set(pool.slice(0, count));
}

/** The sites measured: the "Done when" of the changedFiles work, and a rebuild of whole sections. */
export function siteCases(): SiteCase[] {
  const small = pages(500);
  const large = pages(10_000);
  const rebuilt = new Set(large.filter((f) => /^section-[0-4]\//.test(f)));
  const scattered = pick(large, 1500, 7, (f) => !rebuilt.has(f));
  return [
    { name: '500 files, 1 changed', files: small, changed: new Set([small[213]]) },
    { name: '10,000 files, 4000 changed at random', files: large, changed: pick(large, 4000, 11) },
    { name: '10,000 files, 4000 changed (5 sections rebuilt, 1500 files elsewhere)', files: large, changed: new Set([...rebuilt, ...scattered]) },
  ];
}

function covers(paths: readonly string[], file: string): boolean {
  const p = `/${file}`;
  return paths.some((q) => q === p || (q.endsWith('*') && p.startsWith(q.slice(0, -1))));
}

function outcome(site: SiteCase, paths: readonly string[]): Outcome {
  return {
    paths: paths.length,
    wildcards: paths.filter((p) => p.endsWith('*')).length,
    overInvalidated: site.files.filter((f) => !site.changed.has(f) && covers(paths, f)).length,
    missed: [...site.changed].filter((f) => !covers(paths, f)).length,
  };
}

/** `/*`, one path per changed file, and changedFiles, for one site. */
export function measureSite(site: SiteCase): Record<'wildcard' | 'perFile' | 'collapsed', Outcome> {
  const manifest = (changed: boolean): FileManifest => ({
    format: 1, settings: 's', unknown: '', files: site.files.map((f) => [f, changed && site.changed.has(f) ? 'new' : 'old']),
  });
  const plan = planChangedFiles(manifest(false), manifest(true), { originPath: '', root: '/', maxPaths: MAX_PATHS_PER_REQUEST });
  return {
    wildcard: outcome(site, ['/*']),
    perFile: outcome(site, [...site.changed].map((f) => `/${f}`)),
    collapsed: outcome(site, plan.paths),
  };
}

/** The rows for bench/RESULTS.md: one per site and way of choosing paths. */
export async function overInvalidation(): Promise<ItemResult> {
  const rows: Row[] = [];
  for (const site of siteCases()) {
    const measured = measureSite(site);
    const ways: Array<[string, Outcome]> = [['/*', measured.wildcard], ['one path per changed file', measured.perFile], ['changedFiles (collapsed)', measured.collapsed]];
    for (const [way, o] of ways) {
      const unchanged = site.files.length - site.changed.size;
      rows.push({
        section: '5 over-invalidation',
        measure: `${site.name}: ${way}`,
        value: `${o.overInvalidated.toLocaleString('en')} unchanged purged (${((o.overInvalidated / unchanged) * 100).toFixed(1)}%)`,
        compared: `${o.paths.toLocaleString('en')} paths (${o.wildcards} wildcards), $${(o.paths * 0.005).toFixed(3)} past the free tier; `
          + `${o.paths > MAX_PATHS_PER_REQUEST ? `${Math.ceil(o.paths / MAX_PATHS_PER_REQUEST)} requests; ` : ''}${o.missed} changed left stale`,
        reproduce: REPRODUCE,
      });
    }
  }
  return { rows };
}

if (require.main === module) {
  overInvalidation().then((result) => console.log(renderText(result.rows)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
