/**
 * Collapsing changed paths under a path budget (lambda/invalidation/collapse.ts): pure, checked against examples,
 * random trees, and on small trees against every possible choice of wildcards.
 */
/* eslint-disable no-bitwise */ // subsets as bit masks, and small hashes
import * as fc from 'fast-check';
import type { CollapseInput } from '../../lambda/invalidation/collapse';
import { collapsePaths } from '../../lambda/invalidation/collapse';

function covers(list: readonly string[], p: string): boolean {
  return list.some((q) => q === p || (q.endsWith('*') && p.startsWith(q.slice(0, -1))));
}

/** Unchanged objects the result purges, counted from its paths alone. */
function purgedUnchanged(paths: readonly string[], unchanged: readonly string[]): number {
  return unchanged.filter((u) => covers(paths, u)).length;
}

/** Every directory wildcard candidate: the directories of every path, the root included. */
function directories(input: CollapseInput): string[] {
  const out = new Set<string>([input.root]);
  for (const p of [...input.changed, ...input.unchanged]) {
    for (let i = p.indexOf('/', input.root.length); i !== -1; i = p.indexOf('/', i + 1)) {
      out.add(p.slice(0, i + 1));
    }
  }
  return [...out].sort();
}

/** The fewest unchanged objects purged over every subset of directory wildcards that fits the limits. */
function bruteForce(input: CollapseInput): number {
  const dirs = directories(input);
  const changed = [...new Set(input.changed)];
  const unchanged = [...new Set(input.unchanged)].filter((u) => !changed.includes(u));
  let best = Infinity;
  for (let mask = 0; mask < 1 << dirs.length; mask++) {
    const wildcards = dirs.filter((_, i) => mask & (1 << i)).map((d) => `${d}*`);
    if (wildcards.length > input.maxWildcards) {
      continue;
    }
    const exact = changed.filter((p) => !covers(wildcards, p));
    if (exact.length + wildcards.length > input.maxPaths) {
      continue;
    }
    best = Math.min(best, purgedUnchanged(wildcards, unchanged));
  }
  return best;
}

const name = fc.constantFrom('a', 'b', 'c');
const file = fc.array(name, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}.html`);
const dirPath = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}/`);

/** A small site: objects, some changed, plus directory paths of changed index documents. */
const smallSite = fc.record({
  objects: fc.uniqueArray(file, { minLength: 1, maxLength: 12 }),
  changedMask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  dirPaths: fc.uniqueArray(dirPath, { maxLength: 2 }),
  maxPaths: fc.integer({ min: 1, max: 5 }),
  maxWildcards: fc.integer({ min: 1, max: 4 }),
}).map(({ objects, changedMask, dirPaths, maxPaths, maxWildcards }): CollapseInput => ({
  root: '/',
  changed: [...objects.filter((_, i) => changedMask[i]), ...dirPaths],
  unchanged: objects.filter((_, i) => !changedMask[i]),
  maxPaths,
  maxWildcards,
}));

describe('collapsePaths', () => {
  test('keeps the changed paths as they are when they fit the budget', () => {
    expect(collapsePaths({ root: '/', changed: ['/b.html', '/a.html'], unchanged: ['/c.html'], maxPaths: 2, maxWildcards: 15 }))
      .toEqual({ paths: ['/a.html', '/b.html'], wildcards: 0, overInvalidated: 0 });
  });

  test('collapses a directory whose every object changed before one that has unchanged objects', () => {
    const result = collapsePaths({
      root: '/',
      changed: ['/img/1.png', '/img/2.png', '/img/3.png', '/docs/a.html', '/docs/b.html'],
      unchanged: ['/docs/c.html', '/index.html'],
      maxPaths: 3,
      maxWildcards: 15,
    });
    expect(result).toEqual({ paths: ['/docs/a.html', '/docs/b.html', '/img/*'], wildcards: 1, overInvalidated: 0 });
  });

  test('picks the deepest directory that brings the paths within the budget', () => {
    const result = collapsePaths({
      root: '/',
      changed: ['/a/b/1', '/a/b/2', '/a/b/3', '/a/x'],
      unchanged: ['/a/y', '/a/z', '/a/b/4', '/q'],
      maxPaths: 2,
      maxWildcards: 15,
    });
    expect(result).toEqual({ paths: ['/a/b/*', '/a/x'], wildcards: 1, overInvalidated: 1 });
  });

  test('falls back to the root wildcard when nothing smaller fits', () => {
    const result = collapsePaths({ root: '/static/', changed: ['/static/a', '/static/b/c', '/static/d/e'], unchanged: ['/static/f'], maxPaths: 1, maxWildcards: 15 });
    expect(result).toEqual({ paths: ['/static/*'], wildcards: 1, overInvalidated: 1 });
  });

  test('a directory path is covered by the wildcard of its directory', () => {
    const result = collapsePaths({ root: '/', changed: ['/docs/', '/docs/index.html', '/docs/a.html'], unchanged: ['/index.html'], maxPaths: 2, maxWildcards: 15 });
    expect(result).toEqual({ paths: ['/docs/*'], wildcards: 1, overInvalidated: 0 });
  });

  test('refuses a path outside the root', () => {
    expect(() => collapsePaths({ root: '/static/', changed: ['/a', '/b'], unchanged: [], maxPaths: 1, maxWildcards: 1 })).toThrow(/not under the root/);
  });

  test('4000 changed files of 10,000 go out within 3000 paths and 15 wildcards, every changed file covered', () => {
    const site = syntheticSite(10_000, 4000);
    const result = collapsePaths({ root: '/', ...site, maxPaths: 3000, maxWildcards: 15 });
    expect(result.paths.length).toBeLessThanOrEqual(3000);
    expect(result.wildcards).toBeLessThanOrEqual(15);
    expect(site.changed.every((p) => covers(result.paths, p))).toBe(true);
    expect(result.overInvalidated).toBe(purgedUnchanged(result.paths, site.unchanged));
    expect(result.overInvalidated).toBeLessThan(site.unchanged.length);
  });

  test('property: every changed path covered, the budget held, the count of unchanged objects purged right', () => {
    fc.assert(fc.property(smallSite, (input) => {
      const result = collapsePaths(input);
      expect(input.changed.every((p) => covers(result.paths, p))).toBe(true);
      expect(result.paths.length).toBeLessThanOrEqual(Math.max(input.maxPaths, 0));
      expect(result.paths.filter((p) => p.endsWith('*')).length).toBe(result.wildcards);
      expect(result.wildcards).toBeLessThanOrEqual(input.maxWildcards);
      expect(result.overInvalidated).toBe(purgedUnchanged(result.paths, input.unchanged.filter((u) => !input.changed.includes(u))));
    }), { numRuns: 300, seed: 11 });
  });

  test('property: deterministic, whatever the order of the input', () => {
    fc.assert(fc.property(smallSite, fc.integer(), (input, seed) => {
      const shuffle = (list: readonly string[]) => [...list].sort((a, b) => ((hash(a, seed) - hash(b, seed)) || (a < b ? -1 : 1)));
      expect(collapsePaths({ ...input, changed: shuffle(input.changed), unchanged: shuffle(input.unchanged) })).toEqual(collapsePaths(input));
    }), { numRuns: 200, seed: 12 });
  });

  test('property: on small trees, purges no more unchanged objects than the best choice of wildcards found by brute force', () => {
    fc.assert(fc.property(smallSite, (input) => {
      expect(collapsePaths(input).overInvalidated).toBeLessThanOrEqual(bruteForce(input));
    }), { numRuns: 300, seed: 13 });
  });
});

function hash(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  }
  return h;
}

/**
 * A site of `total` files in nested directories, `changedCount` of them changed, picked by a fixed
 * rule: whole directories now and then, scattered files elsewhere.
 */
export function syntheticSite(total: number, changedCount: number): { changed: string[]; unchanged: string[] } {
  const files: string[] = [];
  for (let i = 0; i < total; i++) {
    files.push(`/section-${i % 20}/group-${Math.floor(i / 20) % 25}/page-${i}.html`);
  }
  const changed: string[] = [];
  const unchanged: string[] = [];
  let seed = 42;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const ratio = changedCount / total;
  for (const f of files) {
    // Some groups change whole, as a rebuilt section would; the rest change at random.
    const group = /group-(\d+)/.exec(f)![1];
    const whole = Number(group) % 5 === 0 && ratio > 0.2;
    if (changed.length < changedCount && (whole || next() < ratio * 0.8)) {
      changed.push(f);
    } else {
      unchanged.push(f);
    }
  }
  return { changed, unchanged };
}
