// The watchdog thread. It watches the test process's main thread through a heartbeat in shared
// memory. If the heartbeat stops for longer than the limit, the main thread is stuck in
// synchronous code (an infinite loop, Atomics.wait without a timeout) and no test timeout can
// fire. Then it reports the test that was running and ends the process, so the run goes on.
import { workerData } from 'node:worker_threads';
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

const { shared, limitMs, pid, hangDir } = workerData;
const clock = new Float64Array(shared, 0, 2); // [heartbeat ms, test started ms]
const meta = new Int32Array(shared, 16, 4); // [wake slot, name length, file length, unused]
const text = new Uint8Array(shared, 32);

for (;;) {
  Atomics.wait(meta, 0, 0, 250);
  const blockedMs = Date.now() - clock[0];
  if (blockedMs < limitMs) continue;
  const nameLen = Atomics.load(meta, 1);
  const fileLen = Atomics.load(meta, 2);
  const decoder = new TextDecoder();
  const test = nameLen > 0 ? decoder.decode(text.slice(0, nameLen)) : '(no test running: the file was loading)';
  const file = decoder.decode(text.slice(2048, 2048 + fileLen));
  const record = { test, file, blockedMs, limitMs, project: process.env.WORKBOOK_PROJECT };
  const message =
    `\n[workbook watchdog] "${test}" blocked the event loop for ${blockedMs} ms.\n` +
    `  Synchronous code never returned: an endless loop, or Atomics.wait with no timeout on the main thread.\n` +
    `  The test process was stopped so the run can go on; the tests of ${path.basename(file)} that had not reported count as failed.\n`;
  writeSync(2, message);
  if (hangDir) {
    try {
      mkdirSync(hangDir, { recursive: true });
      writeFileSync(path.join(hangDir, `${pid}.json`), JSON.stringify(record));
    } catch {
      /* the stderr message above still tells the story */
    }
  }
  process.kill(pid, 'SIGKILL');
}
