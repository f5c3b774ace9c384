import { describe, expect, it } from 'vitest';
import {
  configMapKey,
  dns1123Label,
  dns1123Subdomain,
  labelValue,
  qualifiedName,
} from '../../../shared/model/names.js';

const ok = (errs: string[]) => errs.length === 0;

describe('name rules at their boundaries', () => {
  it.each([
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['web-1', true],
    ['-web', false],
    ['web-', false],
    ['Web', false],
    ['web.example', false],
    ['', false],
  ])('DNS-1123 label %j → %s', (v, valid) => expect(ok(dns1123Label(v))).toBe(valid));

  const label63 = 'a'.repeat(63);
  it.each([
    [[label63, label63, label63, 'a'.repeat(61)].join('.'), true], // 253
    [[label63, label63, label63, 'a'.repeat(62)].join('.'), false], // 254
    ['example.com', true],
    ['a..b', false],
    ['UPPER.com', false],
  ])('DNS-1123 subdomain of length %#', (v, valid) => expect(ok(dns1123Subdomain(v))).toBe(valid));

  it.each([
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    [`example.com/${'a'.repeat(63)}`, true],
    [`example.com/${'a'.repeat(64)}`, false],
    ['/name', false],
    ['Example.com/name', false],
    ['a/b/c', false],
    ['-name', false],
    ['My_Name.1', true],
  ])('label key %j → %s', (v, valid) => expect(ok(qualifiedName(v))).toBe(valid));

  it.each([
    ['', true],
    ['v1.2_3-a', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['-v', false],
    ['v v', false],
  ])('label value %j → %s', (v, valid) => expect(ok(labelValue(v))).toBe(valid));

  it.each([
    ['config.yaml', true],
    ['KEY_NAME', true],
    ['.', false],
    ['..', false],
    ['a/b', false],
    ['a'.repeat(253), true],
    ['a'.repeat(254), false],
  ])('ConfigMap key %j → %s', (v, valid) => expect(ok(configMapKey(v))).toBe(valid));
});
