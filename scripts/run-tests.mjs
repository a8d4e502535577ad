#!/usr/bin/env node
// Runs the compiled test suite with mocha and ends with one plain line, `N passed, N failed, N skipped`,
// so any CI reader can tell what ran. Usage: node scripts/run-tests.mjs [--grep RE] [--invert] [files...]
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Mocha from 'mocha';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(
    'Usage: node scripts/run-tests.mjs [--grep RE] [--invert] [compiled test files...]\n' +
      'Runs dist/test/**/*.test.js by default (build first: npm run build).',
  );
  process.exit(0);
}
const opts = { timeout: 60_000, reporter: 'spec' };
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--grep') opts.grep = args[++i];
  else if (args[i] === '--invert') opts.invert = true;
  else files.push(args[i]);
}
const mocha = new Mocha(opts);
function findTests(dir) {
  let out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(findTests(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const list = files.length > 0 ? files : findTests('dist/test').sort();
if (list.length === 0) {
  console.error('no compiled tests found under dist/test: run `npm run build` first');
  process.exit(1);
}
for (const f of list) mocha.addFile(resolve(f));
await mocha.loadFilesAsync();
const runner = mocha.run((failures) => {
  const s = runner.stats ?? {};
  console.log(`\n${s.passes ?? 0} passed, ${failures} failed, ${s.pending ?? 0} skipped`);
  process.exitCode = failures > 0 ? 1 : 0;
  // Leftover handles (a test's server) must not keep CI waiting.
  setTimeout(() => process.exit(process.exitCode), 2000).unref();
});
