import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../shared/model/errors.js';
import {
  formatLabelSelector,
  fromStructured,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  supportedFieldsOf,
} from '../../../shared/model/selectors.js';

const labels = { app: 'web', tier: 'front', env: 'prod' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=db', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['env in (prod,staging)', true],
    ['env notin (prod)', false],
    ['env notin (dev)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['missing!=x', true],
    ['app in (web), !legacy , tier', true],
  ])('%j matches → %s', (sel, expected) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(expected);
  });

  it.each(['app=', 'app in web', 'app in ()', 'app in (a', '=web', 'app=web,,', 'a b', 'Bad Key=x', 'app=-x-'])(
    'rejects %j with 400',
    (sel) => {
      if (sel === 'app=') {
        // `app=` is valid: it selects an empty value.
        expect(matchesLabels(parseLabelSelector(sel), { app: '' })).toBe(true);
        return;
      }
      expect(() => parseLabelSelector(sel)).toThrow(BadRequestError);
    },
  );

  it('converts structured selectors and prints them back', () => {
    const sel = fromStructured({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'qa'] },
        { key: 'old', operator: 'DoesNotExist' },
      ],
    });
    expect(matchesLabels(sel, labels)).toBe(true);
    expect(formatLabelSelector(sel)).toBe('app=web,env in (prod,qa),!old');
    expect(matchesLabels(parseLabelSelector(formatLabelSelector(sel)), labels)).toBe(true);
  });
});

describe('field selectors', () => {
  const pod = {
    metadata: { name: 'p1', namespace: 'default' },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running' },
  };
  it.each([
    ['metadata.name=p1', true],
    ['metadata.name==p1', true],
    ['metadata.name!=p1', false],
    ['spec.nodeName=n1,status.phase=Running', true],
    ['status.phase!=Succeeded,status.phase!=Failed', true],
    ['spec.nodeName=', false],
  ])('%j → %s', (sel, expected) => {
    expect(matchesFields(parseFieldSelector(sel, supportedFieldsOf('Pod')), pod)).toBe(expected);
  });

  it('rejects fields the kind does not support', () => {
    expect(() => parseFieldSelector('spec.nodeName=n1', supportedFieldsOf('ConfigMap'))).toThrow(
      /field label not supported: spec.nodeName/,
    );
    expect(() => parseFieldSelector('metadata.name', supportedFieldsOf('Pod'))).toThrow(BadRequestError);
  });
});
