#!/usr/bin/env node
// The `workbook` bin: registers tsx's TypeScript loader, then runs cli/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
