/**
 * EventBridge's input transformers, as PutTargets checks them and as a rule fills them in for a
 * target; and the other forms of a target's input (Input, InputPath).
 *
 * Facts (docs/eventbridge.md, "Input transformers", and the EventBridge User Guide):
 * - Input transformation (User Guide, "Amazon EventBridge input transformation"; API reference,
 *   InputTransformer): InputPathsMap names values of the event by JSON path (dot notation, dashes,
 *   array indices); InputTemplate replaces each `<name>`. In a JSON template a placeholder outside
 *   quotes takes the value as JSON (a string comes quoted); inside quotes, the text of the value,
 *   escaped for the JSON string. Every `<name>` that InputPathsMap defines or that is reserved is
 *   filled in wherever it stands (a path's `/promo<id>.html` too); any other `<...>` stays as written.
 *   Reserved: `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
 *   `aws.events.event` and `aws.events.event.json`.
 * - PutTargets (API reference, InputTransformer and PutTargets) refuses a target whose InputTemplate
 *   is longer than 8192 characters, whose InputPathsMap has more than 100 entries, or defines a
 *   reserved name (keys may not start with `aws.`); the error names the target. CloudFormation
 *   applies AWS::Events::Rule with PutRule and PutTargets, so the rule resource fails then. Here a
 *   refused `putRule` throws a ValidationException and changes nothing.
 * - `<` and `>` cannot be escaped: every `<name>` is a placeholder. PutTargets fills a JSON template
 *   (one starting with `{` or `[`) in and refuses it unless the result is JSON: a stray `"`, a
 *   backslash that makes a bad escape, a raw control character in a string, an undefined `<name>`
 *   outside quotes, a placeholder as an object key. A plain-text template is taken as it is.
 */
import type { BusEvent, Rule, RuleTarget } from './eventbridge';

/** The error EventBridge answers a request it refuses with. */
export class ValidationException extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ValidationException';
  }
}

/** The longest InputTemplate PutTargets takes (API reference, InputTransformer). */
export const MAX_INPUT_TEMPLATE_LENGTH = 8192;
/** The most entries an InputPathsMap may have (API reference, InputTransformer). */
export const MAX_INPUT_PATHS = 100;
/** The predefined variables, which an InputPathsMap may not define (User Guide, "Predefined variables"). */
export const RESERVED_INPUT_NAMES: readonly string[] = [
  'aws.events.rule-arn', 'aws.events.rule-name', 'aws.events.event.ingestion-time', 'aws.events.event', 'aws.events.event.json',
];

/**
 * What PutTargets checks of a target before it takes it: throws a ValidationException naming the
 * target and what is wrong with it.
 */
export function validateTarget(target: RuleTarget, rule: Pick<Rule, 'name'>): void {
  const refuse = (problem: string): never => {
    throw new ValidationException(`PutTargets on rule ${rule.name} failed for target ${target.Id}: ${problem}`);
  };
  const transformer = target.InputTransformer;
  if (!transformer) {
    return;
  }
  const { InputPathsMap = {}, InputTemplate } = transformer;
  if (typeof InputTemplate !== 'string' || InputTemplate.length < 1) {
    refuse('InputTemplate must be a string of at least 1 character');
  }
  if (InputTemplate.length > MAX_INPUT_TEMPLATE_LENGTH) {
    refuse(`InputTemplate is ${InputTemplate.length} characters long, more than the ${MAX_INPUT_TEMPLATE_LENGTH} allowed`);
  }
  const names = Object.keys(InputPathsMap);
  if (names.length > MAX_INPUT_PATHS) {
    refuse(`InputPathsMap has ${names.length} entries, more than the ${MAX_INPUT_PATHS} allowed`);
  }
  const reserved = names.filter((n) => RESERVED_INPUT_NAMES.includes(n) || /^aws\./i.test(n));
  if (reserved.length > 0) {
    refuse(`InputPathsMap may not define the reserved name(s) ${reserved.join(', ')}`);
  }
  // EventBridge fills the placeholders in and parses the result: one that names a value of the
  // event stands for any value (null here: it may not be an object key), the whole event for an
  // object; an undefined `<...>` stays as written.
  const { json, text } = fillTemplate(InputTemplate, (name) => (
    name === 'aws.events.event' || name === 'aws.events.event.json' ? { raw: '{"source":"sample"}' }
      : names.includes(name) || RESERVED_INPUT_NAMES.includes(name) ? { value: null } : undefined));
  if (json) {
    try {
      JSON.parse(text);
    } catch (e) {
      refuse(`InputTemplate is not valid JSON once its placeholders are filled in (${(e as Error).message})`);
    }
  }
}

/** The value at a JSON path of the simple form EventBridge takes: `$`, `$.a.b-c`, `$.a[0]`. */
export function valueAtPath(event: unknown, jsonPath: string): unknown {
  if (!jsonPath.startsWith('$')) {
    throw new Error(`invalid JSON path ${jsonPath}`);
  }
  let node: unknown = event;
  for (const [, key, index] of jsonPath.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (node === null || typeof node !== 'object') {
      return undefined;
    }
    node = key !== undefined ? (node as Record<string, unknown>)[key] : (node as unknown[])[Number(index)];
  }
  return node;
}

/**
 * The input a target gets for an event: the event itself, a part of it (InputPath), a constant
 * (Input), or the InputTransformer's template filled in. Undefined when a JSON template does not
 * come out as JSON.
 */
export function targetInput(target: RuleTarget, event: BusEvent, rule: Pick<Rule, 'arn' | 'name'>): unknown {
  if (target.Input !== undefined) {
    return JSON.parse(target.Input);
  }
  if (target.InputPath !== undefined) {
    return valueAtPath(event, target.InputPath);
  }
  if (!target.InputTransformer) {
    return event;
  }
  const { InputPathsMap = {}, InputTemplate } = target.InputTransformer;
  const values = new Map<string, unknown>(Object.entries(InputPathsMap).map(([name, p]) => [name, valueAtPath(event, p)]));
  const { detail, ...withoutDetail } = event;
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event.ingestion-time', event.time);
  const raw = new Map<string, string>([
    ['aws.events.event', JSON.stringify(withoutDetail)],
    ['aws.events.event.json', JSON.stringify({ ...withoutDetail, detail })],
  ]);
  const { json, text } = fillTemplate(InputTemplate, (name) => (
    raw.has(name) ? { raw: raw.get(name)! } : values.has(name) ? { value: values.get(name) } : undefined));
  if (!json) {
    return text;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What a placeholder stands for: a value, or text put in as it is (the whole event). */
type Filling = { readonly value: unknown } | { readonly raw: string };

/**
 * Fills in an InputTemplate: each `<name>` that `fill` knows is replaced, any other `<...>` is left
 * as written (`<` and `>` cannot be escaped). In a JSON template (one that starts with `{` or `[`)
 * a value outside quotes goes in as JSON (a path the event lacks gives null); inside quotes, and in
 * a plain-text template, the value's text, escaped for the JSON string it is in.
 */
export function fillTemplate(template: string, fill: (name: string) => Filling | undefined): { readonly json: boolean; readonly text: string } {
  const json = /^\s*[{[]/.test(template);
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    const filling = placeholder ? fill(placeholder[1]) : undefined;
    if (placeholder && filling) {
      if ('raw' in filling) {
        out += filling.raw;
      } else if (json && !inString) {
        // Outside quotes: the value as JSON; a path the event lacks gives null.
        out += filling.value === undefined ? 'null' : JSON.stringify(filling.value);
      } else {
        // Inside quotes (or a plain-text template): the value's text, escaped for the string it is in.
        const value = filling.value;
        const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
        out += json ? JSON.stringify(text).slice(1, -1) : text;
      }
      i += placeholder[0].length - 1;
      continue;
    }
    if (json && c === '"') {
      inString = !inString;
    } else if (json && c === '\\' && inString) {
      out += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    out += c;
  }
  return { json, text: out };
}
