#!/usr/bin/env node
// resdet is written in TypeScript and run through tsx, so there is no build step between a
// clone and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../tools/cli.ts');
