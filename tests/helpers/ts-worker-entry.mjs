// Bootstrap for Workers that run TypeScript: registers tsx in this thread, then loads the
// real entry file (workerData.__entry). Used by startTsWorker in worker.ts.
// mutation-child.mjs comes first: in a mutation run it must be in place before any instrumented code loads.
import './mutation-child.mjs';
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
await import(pathToFileURL(workerData.__entry).href);
