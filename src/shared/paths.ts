/**
 * CloudFront's rules for invalidation paths, shared by the construct (validation at synth) and the
 * handler (validation of deploy-time values, normalization; its batches within CloudFront's
 * in-progress limits are lambda/invalidation/batches.ts). Pure functions only: the handler bundles
 * this file, so it must not import aws-cdk-lib or constructs.
 */

/** Longest path CloudFront accepts. */
export const MAX_PATH_LENGTH = 4000;
/** Longest cache tag CloudFront accepts (not counting the leading `#`). */
export const MAX_TAG_LENGTH = 256;
/** Most paths one CreateInvalidation request may carry. */
export const MAX_PATHS_PER_REQUEST = 3000;

/** What a path-list item is. */
export type PathKind = 'path' | 'wildcard' | 'tag';

/**
 * Why an item is not a valid invalidation path, or `undefined` when it is.
 * The message reads after the item, e.g. `'/a*b': '*' may only be the last character`.
 */
export function pathProblem(item: string): string | undefined {
  if (item.length === 0) {
    return 'a path may not be empty';
  }
  if (/[\uD800-\uDFFF]/u.test(item)) {
    return 'a path may not contain an unpaired UTF-16 surrogate';
  }
  if (item.startsWith('#')) {
    return tagProblem(item);
  }
  if (!item.startsWith('/')) {
    return 'a path must start with \'/\' (or \'#\' for a cache tag)';
  }
  // CloudFront counts the path as sent, encoded.
  const length = encodePath(item).length;
  if (length > MAX_PATH_LENGTH) {
    return `a path may be at most ${MAX_PATH_LENGTH} characters long once encoded (this one has ${length})`;
  }
  const star = item.indexOf('*');
  if (star !== -1 && star !== item.length - 1) {
    return `'*' may only be the last character of a path (found at character ${star + 1} of ${item.length})`;
  }
  return undefined;
}

function tagProblem(item: string): string | undefined {
  const tag = item.slice(1);
  if (tag.length === 0) {
    return 'a cache tag needs a name after \'#\'';
  }
  if (tag.length > MAX_TAG_LENGTH) {
    return `a cache tag may be at most ${MAX_TAG_LENGTH} characters long (this one has ${tag.length})`;
  }
  for (const ch of tag) {
    const code = ch.codePointAt(0)!;
    if (ch === '*') {
      return 'a cache tag may not contain the wildcard \'*\'';
    }
    if (ch === ',' || code < 33 || code > 126) {
      return `a cache tag may only contain ASCII characters 33-126 other than ',' (found ${JSON.stringify(ch)})`;
    }
  }
  return undefined;
}

/** The kind of a valid item. */
export function pathKind(item: string): PathKind {
  if (item.startsWith('#')) {
    return 'tag';
  }
  return item.endsWith('*') ? 'wildcard' : 'path';
}

/**
 * Characters CloudFront wants percent-encoded in an invalidation path (docs/cloudfront.md, "Limits and
 * paths"): control characters, everything outside ASCII, and RFC 1738's unsafe characters: space,
 * `"`, `<`, `>`, `#`, `%`, `{`, `}`, `|`, `\`, `^`, `~`, `[`, `]` and the backtick. A `%` that
 * already starts an escape (`%20`) is kept, so that paths the user encoded keep their meaning; `*`,
 * `?`, `&` and `=` go as written.
 */
const MUST_ENCODE = /[\u0000-\u0020"<>#{}|\\^~[\]`\u007f-\u{10ffff}]|%(?![0-9A-Fa-f]{2})/gu;

/** Percent-encodes what CloudFront wants encoded (upper-case hex, UTF-8), leaving everything else as written. */
export function encodePath(path: string): string {
  return path.replace(MUST_ENCODE, (ch) => (ch.codePointAt(0)! < 0x80
    ? `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
    : encodeURIComponent(ch)));
}

/**
 * The canonical form of a path list: encoded, cache tags in lower case, without duplicates, without
 * paths a wildcard of the same list already covers, and sorted (CloudFront does not care about order). Throws on an invalid
 * item, naming it.
 */
export function normalizePaths(items: readonly string[], what = 'paths'): string[] {
  const unique = new Set<string>();
  items.forEach((item, i) => {
    const problem = pathProblem(item);
    if (problem) {
      throw new Error(`${what}[${i}] ${quote(item)} is not a valid invalidation path: ${problem}`);
    }
    // Cache tags are case-insensitive: one spelling, whatever the order they come in.
    unique.add(pathKind(item) === 'tag' ? item.toLowerCase() : encodePath(item));
  });
  if (unique.size === 0) {
    throw new Error(`${what} is empty: give at least one path, e.g. '/*'`);
  }
  const prefixes = [...unique].filter((p) => pathKind(p) === 'wildcard').map((p) => p.slice(0, -1));
  const covered = (p: string) => pathKind(p) !== 'tag' && prefixes.some((prefix) => p !== `${prefix}*` && p.startsWith(prefix));
  return [...unique].filter((p) => !covered(p)).sort(compareStrings);
}

/**
 * A value as messages echo it: JSON-quoted, and when longer than `max` characters, its start and
 * end around an ellipsis, with its length; never split inside a character.
 */
export function quote(value: string, max = 100): string {
  const chars = [...value];
  if (chars.length <= max) {
    return JSON.stringify(value);
  }
  const head = chars.slice(0, Math.ceil(max * 0.7)).join('');
  const tail = chars.slice(chars.length - Math.floor(max * 0.3)).join('');
  return `${JSON.stringify(head).slice(0, -1)}...${JSON.stringify(tail).slice(1)} (${chars.length} characters)`;
}

/** Code-unit order, the same on every machine and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
