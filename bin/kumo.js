#!/usr/bin/env node
// The `kumo` command: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';
register();
await import('../local/cli.ts');
