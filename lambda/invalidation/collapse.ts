/**
 * Collapsing a list of changed paths under a path budget: when the changed objects need more paths
 * than the budget allows, groups of them are replaced with directory wildcards (`/docs/*`), chosen
 * so that the wildcards purge as few unchanged objects as possible (for changedFiles: changed-paths.ts).
 * Pure and deterministic.
 *
 * The wildcards considered are those of the directories holding the objects (`/a/b/*` for an
 * object `/a/b/c.html`), up to the root every object is under. The choice is exact over those:
 * a dynamic program over the directory tree keeps, for each directory and number of wildcards, the
 * trade-offs between changed paths covered and unchanged objects purged that no other choice beats.
 */
import { compareStrings } from '../../src/shared/paths';

/** What to collapse. Paths are viewer paths as written (not URL-encoded), each under `root`. */
export interface CollapseInput {
  /**
   * Paths that must be purged: changed, added or deleted objects, and directory paths ending with
   * `/` (such as `/docs/` for a changed `/docs/index.html`).
   */
  readonly changed: readonly string[];
  /** Objects that did not change: a wildcard over them purges them for nothing. */
  readonly unchanged: readonly string[];
  /** The directory every path is under, starting and ending with `/` (`/` or `/static/`). */
  readonly root: string;
  /** Most paths in the result, wildcards included; at least 1. */
  readonly maxPaths: number;
  /** Most wildcard paths in the result; at least 1. */
  readonly maxWildcards: number;
}

/** The paths to purge. */
export interface Collapsed {
  /** Exact paths and directory wildcards, sorted; every changed path is one of them or under a wildcard. */
  readonly paths: string[];
  /** How many of `paths` are wildcards. */
  readonly wildcards: number;
  /** How many unchanged objects the wildcards purge. */
  readonly overInvalidated: number;
}

/** A directory of the tree. */
interface Dir {
  readonly path: string;
  readonly children: Map<string, Dir>;
  /** Changed paths in the directory and below. */
  changed: number;
  /** Unchanged objects in the directory and below. */
  unchanged: number;
}

/** The wildcards chosen so far: a persistent list, shared between the choices built on it. */
interface Picks {
  readonly dir: Dir;
  readonly next?: Picks;
}

/** One choice within a subtree: changed paths its wildcards cover (capped), unchanged objects they purge. */
interface Choice {
  readonly gain: number;
  readonly cost: number;
  readonly picks?: Picks;
}

/**
 * The fewest unchanged objects purged for covering every changed path within `maxPaths` paths and
 * `maxWildcards` wildcards. Without collapsing when the changed paths fit. Ties go to the result with
 * fewer paths, then fewer wildcards, then to the earlier directories in code-unit order.
 *
 * @throws when a path is not under `root`, or a limit is below 1.
 */
export function collapsePaths(input: CollapseInput): Collapsed {
  const { root } = input;
  if (!root.startsWith('/') || !root.endsWith('/')) {
    throw new Error(`collapsePaths: root ${JSON.stringify(root)} must start and end with '/'`);
  }
  if (!(input.maxPaths >= 1) || !(input.maxWildcards >= 1)) {
    throw new Error(`collapsePaths: maxPaths (${input.maxPaths}) and maxWildcards (${input.maxWildcards}) must be at least 1`);
  }
  const changed = [...new Set(input.changed)].sort(compareStrings);
  const changedSet = new Set(changed);
  const unchanged = [...new Set(input.unchanged)].filter((p) => !changedSet.has(p));
  if (changed.length <= input.maxPaths) {
    return { paths: changed, wildcards: 0, overInvalidated: 0 };
  }
  const tree = buildTree(root, changed, unchanged);
  const maxWildcards = Math.min(input.maxWildcards, input.maxPaths);
  // Covering more than this many changed paths never helps: with w wildcards, at most maxPaths - w exact paths remain.
  const cap = changed.length - input.maxPaths + maxWildcards;
  const choices = solve(tree, maxWildcards, cap);
  let best: { cost: number; paths: number; wildcards: number; picks?: Picks } | undefined;
  for (let w = 1; w <= maxWildcards; w++) {
    for (const choice of choices[w]) {
      const picked = listPicks(choice.picks);
      const covered = picked.reduce((sum, d) => sum + d.changed, 0);
      const paths = changed.length - covered + w;
      if (paths > input.maxPaths) {
        continue;
      }
      if (!best || choice.cost < best.cost || (choice.cost === best.cost && (paths < best.paths || (paths === best.paths && w < best.wildcards)))) {
        best = { cost: choice.cost, paths, wildcards: w, picks: choice.picks };
      }
    }
  }
  // The root's wildcard alone always fits, so there is always a best.
  const picked = listPicks(best!.picks).map((d) => d.path);
  const exact = changed.filter((p) => !picked.some((dir) => p.startsWith(dir)));
  return {
    paths: [...exact, ...picked.map((dir) => `${dir}*`)].sort(compareStrings),
    wildcards: picked.length,
    overInvalidated: best!.cost,
  };
}

/** The directories of `path` below the root, outermost first: `/a/b/c` under `/` gives `/a/`, `/a/b/`. */
function directoriesOf(root: string, path: string): string[] {
  if (!path.startsWith(root)) {
    throw new Error(`collapsePaths: ${JSON.stringify(path)} is not under the root ${JSON.stringify(root)}`);
  }
  const out: string[] = [];
  for (let i = path.indexOf('/', root.length); i !== -1; i = path.indexOf('/', i + 1)) {
    out.push(path.slice(0, i + 1));
  }
  return out;
}

function buildTree(root: string, changed: readonly string[], unchanged: readonly string[]): Dir {
  const top: Dir = { path: root, children: new Map(), changed: 0, unchanged: 0 };
  const add = (path: string, isChanged: boolean) => {
    let dir = top;
    const count = () => (isChanged ? dir.changed++ : dir.unchanged++);
    count();
    for (const sub of directoriesOf(root, path)) {
      let child = dir.children.get(sub);
      if (!child) {
        child = { path: sub, children: new Map(), changed: 0, unchanged: 0 };
        dir.children.set(sub, child);
      }
      dir = child;
      count();
    }
  };
  changed.forEach((p) => add(p, true));
  unchanged.forEach((p) => add(p, false));
  return top;
}

/**
 * For each number of wildcards w (index), the choices within `dir` that no other choice with w
 * wildcards beats: more changed paths covered (capped at `cap`) for no more unchanged objects.
 */
function solve(dir: Dir, maxWildcards: number, cap: number): Choice[][] {
  const none: Choice = { gain: 0, cost: 0 };
  const out: Choice[][] = Array.from({ length: maxWildcards + 1 }, () => []);
  out[0] = [none];
  const own: Choice = { gain: Math.min(dir.changed, cap), cost: dir.unchanged, picks: { dir } };
  if (dir.changed <= 1) {
    // A wildcard covering one changed path saves nothing.
    return out;
  }
  if (dir.unchanged === 0) {
    // Its own wildcard covers everything below at no cost: nothing below beats it.
    out[1] = [own];
    return out;
  }
  let acc = out;
  for (const key of [...dir.children.keys()].sort(compareStrings)) {
    const child = solve(dir.children.get(key)!, maxWildcards, cap);
    const next: Choice[][] = Array.from({ length: maxWildcards + 1 }, () => []);
    for (let a = 0; a <= maxWildcards; a++) {
      for (let b = 0; a + b <= maxWildcards; b++) {
        if (acc[a].length === 0 || child[b].length === 0) {
          continue;
        }
        for (const x of acc[a]) {
          for (const y of child[b]) {
            next[a + b].push(combine(x, y, cap));
          }
        }
      }
    }
    acc = next.map(frontier);
  }
  acc[1] = frontier([...acc[1], own]);
  return acc;
}

function combine(x: Choice, y: Choice, cap: number): Choice {
  let picks = x.picks;
  for (const d of listPicks(y.picks).reverse()) {
    picks = { dir: d, next: picks };
  }
  return { gain: Math.min(cap, x.gain + y.gain), cost: x.cost + y.cost, picks };
}

/** The choices no other beats, by gain descending; among equals, the first one found. */
function frontier(choices: readonly Choice[]): Choice[] {
  const byGain = choices.map((c, i) => ({ c, i })).sort((p, q) => q.c.gain - p.c.gain || p.c.cost - q.c.cost || p.i - q.i);
  const out: Choice[] = [];
  for (const { c } of byGain) {
    if (out.length === 0 || c.cost < out[out.length - 1].cost) {
      out.push(c);
    }
  }
  return out;
}

function listPicks(picks: Picks | undefined): Dir[] {
  const out: Dir[] = [];
  for (let p = picks; p; p = p.next) {
    out.push(p.dir);
  }
  return out;
}
