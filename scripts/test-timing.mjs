// A mocha root-hook plugin that scripts/run-tests.mjs loads into each parallel worker: it appends
// one line, `{"file": ..., "ms": ...}`, per test file to $AGORA_TEST_TIMINGS once the file is done,
// hooks included, so the runner can start the longest files first next time (test/durations.json).
import { appendFileSync } from 'node:fs';

let started = 0;

export const mochaHooks = {
  beforeAll() {
    started = Date.now();
  },
  afterAll() {
    const out = process.env.AGORA_TEST_TIMINGS;
    const file = this.test?.parent?.suites?.find((s) => s.file)?.file;
    if (!out || !file) return;
    appendFileSync(out, `${JSON.stringify({ file, ms: Date.now() - started })}\n`);
  },
};
