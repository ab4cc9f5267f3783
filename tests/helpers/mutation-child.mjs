// Loaded first in Workers and child processes during a mutation run's coverage pass (see mutation.ts):
// records each mutant id the instrumented code reaches, once, by appending it to the parent's file.
import { appendFileSync } from 'node:fs';

const file = process.env.WORKBOOK_MUTANT_COVERAGE_FILE;
if (file) {
  const ns = (globalThis.__stryker__ ??= {});
  const seen = new Proxy(
    {},
    {
      set(target, id, count) {
        if (!(id in target)) appendFileSync(file, `${String(id)}\n`);
        target[id] = count;
        return true;
      },
    },
  );
  // No test runs here, so the instrumented code records into `static`, which is the proxy.
  ns.mutantCoverage = { static: seen, perTest: {} };
}
