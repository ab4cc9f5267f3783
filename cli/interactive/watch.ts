/**
 * Watch a chapter's learner files for saves. It watches the chapter's folder, not the files,
 * because many editors save by writing a new file and renaming it over the old one, which ends a
 * watch on the file itself. Events are debounced: one save often fires two or three.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';

/** How long to wait after the last event before reporting a save. */
export const DEBOUNCE_MS = 60;

/** Call `onSave(files)` (absolute paths) when any of `files` in `dir` is saved. Returns a function that stops watching. */
export function watchFiles(dir: string, files: string[], onSave: (changed: string[]) => void): () => void {
  const names = new Set(files.map((f) => path.normalize(f)));
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = () => {
    timer = undefined;
    const list = [...changed];
    changed.clear();
    onSave(list);
  };
  const start = () => {
    if (closed) return;
    try {
      watcher = watch(dir, (_event, name) => {
        // Some platforms omit the name; then any learner file may have changed.
        const hits = name ? (names.has(path.normalize(String(name))) ? [String(name)] : []) : [...names];
        if (hits.length === 0) return;
        for (const h of hits) changed.add(path.join(dir, h));
        clearTimeout(timer);
        timer = setTimeout(flush, DEBOUNCE_MS);
      });
      // The folder itself was replaced or removed: watch again once it is back.
      watcher.on('error', () => {
        watcher?.close();
        retry = setTimeout(start, 250);
      });
    } catch {
      retry = setTimeout(start, 250);
    }
  };
  start();
  return () => {
    closed = true;
    clearTimeout(timer);
    clearTimeout(retry);
    watcher?.close();
  };
}
