import { BadRequestError } from './errors.js';
import { qualifiedName, labelValue } from './names.js';

/** Label selectors in the query-string syntax: `app=web,tier!=db,env in (a,b),!legacy,release`. */
export type Requirement = { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!' };

export type LabelSelector = Requirement[];

const TOKEN = /\s*(\(|\)|,|!=|==|=|!|[^\s(),!=]+)\s*/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m || m.index !== at)
      throw new BadRequestError(`unable to parse requirement: invalid label selector "${text}"`);
    tokens.push(m[1] ?? '');
  }
  return tokens;
}

function checkKey(key: string, text: string) {
  const errs = qualifiedName(key);
  if (errs.length)
    throw new BadRequestError(
      `unable to parse requirement: invalid label key "${key}": ${errs.join('; ')} (selector "${text}")`,
    );
}

function checkValue(value: string, text: string) {
  const errs = labelValue(value);
  if (errs.length)
    throw new BadRequestError(
      `unable to parse requirement: invalid label value "${value}": ${errs.join('; ')} (selector "${text}")`,
    );
}

export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (!text || !text.trim()) return [];
  const tokens = tokenize(text);
  const reqs: Requirement[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new BadRequestError(`unable to parse requirement: ${why} in label selector "${text}"`);
  };
  const next = () => tokens[i++];
  while (i < tokens.length) {
    let tok = next();
    if (tok === '!') {
      const key = next() ?? fail('missing key after "!"');
      checkKey(key, text);
      reqs.push({ key, op: '!' });
    } else {
      const key = tok ?? fail('missing key');
      checkKey(key, text);
      const op = tokens[i];
      if (op === undefined || op === ',') {
        reqs.push({ key, op: 'exists' });
      } else if (op === '=' || op === '==' || op === '!=') {
        i++;
        let value = tokens[i];
        if (value === undefined || value === ',') value = '';
        else i++;
        checkValue(value, text);
        reqs.push({ key, op: op === '!=' ? 'notin' : 'in', values: [value] });
      } else if (op === 'in' || op === 'notin') {
        i++;
        if (next() !== '(') fail(`expected "(" after "${op}"`);
        const values: string[] = [];
        for (;;) {
          tok = next();
          if (tok === undefined) fail('missing ")"');
          if (tok === ')') break;
          if (tok === ',') continue;
          checkValue(tok as string, text);
          values.push(tok as string);
        }
        if (values.length === 0) fail(`"${op}" needs at least one value`);
        reqs.push({ key, op, values });
      } else {
        fail(`unexpected "${op}" after key "${key}"`);
      }
    }
    if (i < tokens.length) {
      if (tokens[i] !== ',') fail(`expected "," but found "${tokens[i]}"`);
      i++;
    }
  }
  return reqs;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key] as string);
      case 'notin':
        return !has || !r.values.includes(l[r.key] as string);
    }
  });
}

/** The query-string form of a selector (the inverse of parseLabelSelector). */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel
    .map((r) => {
      if (!('values' in r)) return r.op === '!' ? `!${r.key}` : r.key;
      if (r.op === 'in' && r.values.length === 1) return `${r.key}=${r.values[0]}`;
      return `${r.key} ${r.op} (${r.values.join(',')})`;
    })
    .join(',');
}

/** A structured selector as Deployments, ReplicaSets and Jobs carry it (`matchLabels` + `matchExpressions`). */
export interface StructuredSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const OPERATORS: Record<string, Requirement['op'] | undefined> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * A workload's selector in the structured form: a ReplicationController's is a plain label map
 * (core/v1), every other workload's a LabelSelector.
 */
export function workloadSelector(o: { kind?: string; spec?: unknown }): StructuredSelector | undefined {
  const sel = o.spec && typeof o.spec === 'object' && 'selector' in o.spec ? o.spec.selector : undefined;
  if (!sel || typeof sel !== 'object' || Array.isArray(sel)) return undefined;
  return o.kind === 'ReplicationController'
    ? { matchLabels: sel as Record<string, string> }
    : (sel as StructuredSelector);
}

export function fromStructured(s: StructuredSelector | undefined): LabelSelector {
  const reqs: Requirement[] = Object.entries(s?.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: 'in' as const,
    values: [v],
  }));
  for (const e of s?.matchExpressions ?? []) {
    const op = Object.hasOwn(OPERATORS, e.operator) ? OPERATORS[e.operator] : undefined;
    // Admission refuses other operators; one that got in anyway selects nothing (Kubernetes cannot build such a selector).
    if (op === undefined) reqs.push({ key: e.key, op: 'in', values: [] });
    else reqs.push(op === 'in' || op === 'notin' ? { key: e.key, op, values: e.values ?? [] } : { key: e.key, op });
  }
  return reqs;
}

/** Field selectors: `metadata.name=web,status.phase!=Running`. Only the fields a kind supports may be used. */
export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(text: string | undefined, supported: readonly string[]): FieldRequirement[] {
  if (!text || !text.trim()) return [];
  return text.split(',').map((part) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m)
      throw new BadRequestError(`invalid field selector: "${part}" is not of the form field=value or field!=value`);
    const field = m[1] as string;
    if (!supported.includes(field)) throw new BadRequestError(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3] ?? '' };
  });
}

function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}

/**
 * What label and field selectors can see of an object: its labels and the values of its kind's
 * selectable fields. A change record keeps this of the version it replaced, so a watch can tell an
 * object that stopped matching its selector (DELETED for that watch) from one that never matched,
 * as the kube-apiserver's cacher does with an event's prevObject.
 */
export interface SelectableState {
  labels: Record<string, string>;
  fields: Record<string, string>;
}

export function selectableState(o: { kind?: string; metadata: { labels?: Record<string, string> } }): SelectableState {
  const fields: Record<string, string> = {};
  for (const f of supportedFieldsOf(o.kind ?? '')) fields[f] = fieldValue(o, f);
  return { labels: { ...o.metadata.labels }, fields };
}

export function stateMatches(labels: LabelSelector, fields: FieldRequirement[], s: SelectableState): boolean {
  return (
    matchesLabels(labels, s.labels) && fields.every((r) => ((s.fields[r.field] ?? '') === r.value) === (r.op === '='))
  );
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];

/** The field selectors each kind answers, as in Kubernetes' field-label conversion functions. */
export const SUPPORTED_FIELDS: Record<string, readonly string[]> = {
  Pod: [
    ...COMMON_FIELDS,
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Event: [
    ...COMMON_FIELDS,
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Node: [...COMMON_FIELDS, 'spec.unschedulable'],
  Namespace: [...COMMON_FIELDS, 'status.phase'],
  Secret: [...COMMON_FIELDS, 'type'],
  Job: [...COMMON_FIELDS, 'status.successful'],
  ReplicaSet: [...COMMON_FIELDS, 'status.replicas'],
  ReplicationController: [...COMMON_FIELDS, 'status.replicas'],
};

export const supportedFieldsOf = (kind: string) => SUPPORTED_FIELDS[kind] ?? COMMON_FIELDS;
