// Worker bootstrap for benchmarks: register tsx in this thread, then load the TypeScript entry
// named in workerData.entry. (Workers are started with execArgv: [], so nothing is registered twice.)
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
await import(pathToFileURL(workerData.entry).href);
