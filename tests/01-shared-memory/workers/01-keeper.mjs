// Worker entry for chapter 01: the receiving thread of the copy-vs-share tests. Plain JavaScript,
// because it runs none of the learner's code (and so starts without the TypeScript loader).
// It keeps every note posted to it, untouched. When the test posts { look: i }, it answers with
// what note #i holds *now*, and whether it lives in a SharedArrayBuffer.
import { parentPort } from 'node:worker_threads';

const notes = [];

parentPort.on('message', (m) => {
  if (m !== null && typeof m === 'object' && !ArrayBuffer.isView(m) && 'look' in m) {
    const note = notes[m.look];
    if (note instanceof Uint8Array) {
      parentPort.postMessage({ kind: 'seen', bytes: Array.from(note), shared: note.buffer instanceof SharedArrayBuffer });
    } else {
      parentPort.postMessage({ kind: 'seen', bytes: null, shared: false, type: Object.prototype.toString.call(note) });
    }
    return;
  }
  notes.push(m);
});
