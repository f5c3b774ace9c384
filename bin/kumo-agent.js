#!/usr/bin/env node
// The `kumo-agent` command: runs the TypeScript agent through tsx (no build step); `npm run build:agent` bundles it for hosts without the repository.
import { register } from 'tsx/esm/api';
register();
await import('../agent/main.ts');
