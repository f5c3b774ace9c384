import { describe, expect, it } from 'vitest';
import { BadRequestError, StatusError, UnsupportedMediaTypeError } from '../../../shared/model/errors.js';
import { applyPatch, mergePatch, patchTypeOf } from '../../../shared/apiserver/patch.js';

describe('JSON merge patch (RFC 7386 appendix A)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j', (target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('does not modify its input', () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { spec: { replicas: 1, containers: [{ name: 'a' }] } };
  it('applies operations in order', () => {
    expect(
      applyPatch('json', doc, [
        { op: 'replace', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/spec/containers/-', value: { name: 'b' } },
        { op: 'test', path: '/spec/replicas', value: 3 },
      ]),
    ).toEqual({ spec: { replicas: 3, containers: [{ name: 'a' }, { name: 'b' }] } });
  });
  it('answers 422 when a test fails and 400 when the patch is malformed', () => {
    expect(() => applyPatch('json', doc, [{ op: 'test', path: '/spec/replicas', value: 2 }])).toThrow(StatusError);
    expect(() => applyPatch('json', doc, { op: 'add' })).toThrow(BadRequestError);
    expect(() => applyPatch('json', doc, [{ op: 'jump', path: '/x' }])).toThrow(BadRequestError);
  });
});

describe('patch content types', () => {
  it.each([
    ['application/merge-patch+json', 'merge'],
    ['application/json-patch+json; charset=utf-8', 'json'],
  ])('%s', (ct, type) => expect(patchTypeOf(ct)).toBe(type));
  it('refuses others with 415', () => {
    expect(() => patchTypeOf('application/x-www-form-urlencoded')).toThrow(UnsupportedMediaTypeError);
  });
});
