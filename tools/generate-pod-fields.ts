import { readFileSync, writeFileSync } from 'node:fs';
import { renderPodFieldsTable } from '../shared/agent/pod-fields.js';

/** Writes the README's "Pod fields" table from shared/agent/pod-fields.ts (the test checks they agree). */
const START = '<!-- pod-fields:start -->';
const END = '<!-- pod-fields:end -->';
const readme = readFileSync('README.md', 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} section`);
writeFileSync('README.md', `${readme.slice(0, a + START.length)}\n${renderPodFieldsTable()}\n${readme.slice(b)}`);
