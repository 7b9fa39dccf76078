/**
 * The paths a changedFiles deploy must purge, worked out from the previous and the new manifest of
 * the deployment (src/shared/file-manifest.ts): the objects that changed, as the viewer sees them,
 * collapsed into directory wildcards when they need too many paths (collapse.ts). Pure functions only.
 */
import { MAX_WILDCARDS_IN_PROGRESS } from './batches';
import { collapsePaths } from './collapse';
import type { FileManifest } from '../../src/shared/file-manifest';
import { MAX_PATHS_PER_REQUEST, normalizePaths, pathKind } from '../../src/shared/paths';

/** How the viewer sees the deployment's objects, and how many paths a deploy may purge. */
export interface ChangedFilesSettings {
  /** The origin path of the distribution's origin for the bucket, without slashes at either end; empty for none. */
  readonly originPath: string;
  /** The viewer directory every object of the deployment is under, starting and ending with `/`. */
  readonly root: string;
  /** A file name, such as `index.html`, whose change also purges its directory's path (`/docs/`). */
  readonly indexDocument?: string;
  /** Most paths a deploy submits. */
  readonly maxPaths: number;
}

/** The paths a deploy purges, and why. */
export interface ChangedFilesPlan {
  /** Normalized paths; empty when no object changed. */
  readonly paths: string[];
  /** Objects added, changed or deleted; undefined when the manifests were not compared. */
  readonly changedObjects?: number;
  /** Unchanged objects the paths purge; undefined when the manifests were not compared. */
  readonly overInvalidated?: number;
  /** One line on what was purged and why, for the custom resource's data and the log. */
  readonly note: string;
}

/** The viewer path of an object key, or undefined when the origin path does not serve it. */
export function viewerPath(key: string, originPath: string): string | undefined {
  if (originPath && !key.startsWith(`${originPath}/`)) {
    return undefined;
  }
  // A key is a name, not a URL: its '%' and '?' are characters of the name, which a viewer's URL
  // holds encoded (encodePath, which keeps an escape that is already there and a query string,
  // does the rest).
  const served = (originPath ? key.slice(originPath.length + 1) : key).replace(/%/g, '%25').replace(/\?/g, '%3F');
  // A '*' inside a key cannot be named exactly: purge what starts like it.
  const star = served.indexOf('*');
  return `/${star === -1 ? served : served.slice(0, star + 1)}`;
}

/**
 * The paths to purge when a deployment goes from `previous` to `current`: the objects added,
 * changed or deleted (with their directory's path when they are the index document), collapsed
 * into directory wildcards when they need more than `maxPaths` paths or more than what CloudFront
 * keeps in progress at once. The deployment's root wildcard (`<root>*`) when there is no previous
 * manifest (`previousProblem` says why), when the deployment's settings changed, or when some of
 * its objects are known only at deploy time.
 */
export function planChangedFiles(
  previous: FileManifest | undefined, current: FileManifest, settings: ChangedFilesSettings, previousProblem = 'there is no earlier manifest',
): ChangedFilesPlan {
  const whole = (why: string): ChangedFilesPlan => ({ paths: [`${settings.root}*`], note: `purged ${settings.root}*: ${why}` });
  if (current.unknown) {
    return whole(current.unknown);
  }
  if (!previous) {
    return whole(previousProblem);
  }
  if (previous.unknown) {
    return whole(`the previous deploy had objects known only at deploy time (${previous.unknown})`);
  }
  if (previous.settings !== current.settings) {
    return whole('the deployment\'s object settings (metadata, content type, cache control...) changed');
  }
  const before = new Map(previous.files.map(([k, h]) => [k, h]));
  const changedKeys: string[] = [];
  const unchangedKeys: string[] = [];
  for (const [key, hash] of current.files) {
    const old = before.get(key);
    before.delete(key);
    (old !== undefined && old === hash && hash !== '' ? unchangedKeys : changedKeys).push(key);
  }
  // What is left was deleted.
  changedKeys.push(...before.keys());
  const toViewer = (keys: string[]) => keys.map((k) => viewerPath(k, settings.originPath))
    .filter((p): p is string => p !== undefined && p.startsWith(settings.root));
  const changed = toViewer(changedKeys);
  const unchanged = toViewer(unchangedKeys);
  if (settings.indexDocument) {
    const suffix = `/${settings.indexDocument}`;
    changed.push(...changed.filter((p) => p.endsWith(suffix)).map((p) => p.slice(0, -settings.indexDocument!.length)));
  }
  if (changed.length === 0) {
    return { paths: [], changedObjects: 0, overInvalidated: 0, note: `no object of the ${current.files.length} changed: nothing to purge` };
  }
  const collapsed = collapsePaths({
    changed, unchanged, root: settings.root, maxPaths: Math.min(settings.maxPaths, MAX_PATHS_PER_REQUEST), maxWildcards: MAX_WILDCARDS_IN_PROGRESS,
  });
  const paths = normalizePaths(collapsed.paths);
  const wildcards = paths.filter((p) => pathKind(p) === 'wildcard').length;
  const collapsedNote = wildcards > 0 ? `, collapsed into ${wildcards} wildcard(s) that also purge ${collapsed.overInvalidated} unchanged object(s)` : '';
  return {
    paths,
    changedObjects: changedKeys.length,
    overInvalidated: collapsed.overInvalidated,
    note: `${changedKeys.length} of ${new Set([...previous.files.map((f) => f[0]), ...current.files.map((f) => f[0])]).size} objects `
      + `added, changed or deleted: ${paths.length} path(s)${collapsedNote}`,
  };
}
