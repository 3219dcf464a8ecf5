import { badRequest } from './api-errors.js';
import type { KubeObject } from './kube-object.js';
import type { ResourceInfo } from './resources.js';

/**
 * Label and field selectors of list and watch requests.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/
 */
export type LabelRequirement =
  | { readonly op: 'eq' | 'neq'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'notexists'; readonly key: string }
  | { readonly op: 'gt' | 'lt'; readonly key: string; readonly value: number };

type Token = { readonly kind: 'word'; readonly text: string } | { readonly kind: 'op'; readonly text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space !== null) {
      i += space[0].length;
      continue;
    }
    const op = /^(==|!=|=|!|\(|\)|,|>|<)/.exec(rest);
    if (op !== null) {
      tokens.push({ kind: 'op', text: op[0] });
      i += op[0].length;
      continue;
    }
    const word = /^[^\s=!(),<>]+/.exec(rest);
    tokens.push({ kind: 'word', text: word?.[0] ?? rest });
    i += word?.[0].length ?? rest.length;
  }
  return tokens;
}

/** Parses a labelSelector; 400 BadRequest as the apiserver answers for one it cannot parse. */
export function parseLabelSelector(text: string | undefined): LabelRequirement[] {
  if (text === undefined || text.trim() === '') return [];
  const tokens = tokenize(text);
  let at = 0;
  const fail = (expected: string): never => {
    throw badRequest(`unable to parse requirement: found '${tokens[at]?.text ?? ''}', expected: ${expected}`);
  };
  const word = (): string => {
    const token = tokens[at];
    if (token?.kind !== 'word') return fail('identifier');
    at++;
    return token.text;
  };
  const isOp = (op: string): boolean => tokens[at]?.kind === 'op' && tokens[at]?.text === op;
  const isWord = (w: string): boolean => tokens[at]?.kind === 'word' && tokens[at]?.text === w;
  const optionalValue = (): string => (tokens[at]?.kind === 'word' ? word() : '');
  const requirements: LabelRequirement[] = [];
  for (;;) {
    if (isOp('!')) {
      at++;
      requirements.push({ op: 'notexists', key: word() });
    } else {
      const key = word();
      if (isOp('=') || isOp('==')) {
        at++;
        requirements.push({ op: 'eq', key, value: optionalValue() });
      } else if (isOp('!=')) {
        at++;
        requirements.push({ op: 'neq', key, value: optionalValue() });
      } else if (isOp('>') || isOp('<')) {
        const op = tokens[at++]?.text === '>' ? 'gt' : 'lt';
        const value = Number(word());
        if (!Number.isInteger(value)) fail('an integer');
        requirements.push({ op, key, value });
      } else if (isWord('in') || isWord('notin')) {
        const op = word() as 'in' | 'notin';
        if (!isOp('(')) fail("'('");
        at++;
        const values: string[] = [];
        while (!isOp(')')) {
          values.push(optionalValue());
          if (isOp(',')) at++;
          else if (!isOp(')')) fail("',', ')'");
        }
        at++;
        requirements.push({ op, key, values });
      } else {
        requirements.push({ op: 'exists', key });
      }
    }
    if (at >= tokens.length) return requirements;
    if (!isOp(',')) fail("','");
    at++;
  }
}

export function matchesLabels(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const of = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(of, r.key);
    const value = of[r.key];
    switch (r.op) {
      case 'eq':
        return has && value === r.value;
      case 'neq':
        return !has || value !== r.value;
      case 'in':
        return has && r.values.includes(value ?? '');
      case 'notin':
        return !has || !r.values.includes(value ?? '');
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'gt':
        return has && Number(value) > r.value;
      case 'lt':
        return has && Number(value) < r.value;
      default: {
        const _exhaustive: never = r;
        return _exhaustive;
      }
    }
  });
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: 'eq' | 'neq';
  readonly value: string;
}

/** Parses a fieldSelector for a kind; a field the kind does not index is refused as the apiserver does. */
export function parseFieldSelector(text: string | undefined, info: ResourceInfo): FieldRequirement[] {
  if (text === undefined || text.trim() === '') return [];
  // Backslash escapes ',' '=' '!' inside values.
  const parts = text.split(/(?<!\\),/);
  return parts.map((part) => {
    const match = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(part.trim());
    if (match === null) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = match[1] ?? '';
    if (!['metadata.name', 'metadata.namespace', ...info.selectableFields].includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, op: match[2] === '!=' ? 'neq' : 'eq', value: (match[3] ?? '').replace(/\\(.)/g, '$1') };
  });
}

/** The value a selectable field has in an object ('' when absent, as the apiserver indexes it). */
function fieldValue(object: KubeObject, field: string): string {
  if (field === 'status.successful') {
    const succeeded = (object.status as { succeeded?: number } | undefined)?.succeeded;
    return String(succeeded ?? 0);
  }
  // An Event's `source` field selects by its component.
  const path = field === 'source' ? 'source.component' : field;
  let at: unknown = object;
  for (const part of path.split('.')) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
  return at === undefined || at === null ? (field === 'spec.unschedulable' ? 'false' : '') : String(at);
}

export function matchesFields(requirements: readonly FieldRequirement[], object: KubeObject): boolean {
  return requirements.every((r) => (fieldValue(object, r.field) === r.value) === (r.op === 'eq'));
}
