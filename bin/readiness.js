#!/usr/bin/env node
// The readiness CLI. In a checkout it runs the TypeScript source (Node >= 22.18 strips types);
// an installed package has no src/ and runs the built JavaScript in dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/src/cli/main.js', import.meta.url).href);
