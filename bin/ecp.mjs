#!/usr/bin/env node
// The `ecp` command: registers tsx's ESM loader (no build step) and runs the TypeScript CLI.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
