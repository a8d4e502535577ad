#!/usr/bin/env node
// Fails when an installed dependency has an install script (preinstall, install, postinstall)
// that package.json's `allowScripts` neither approves nor denies. npm 11 runs such scripts with
// a notice; npm 12 skips them, so an unreviewed one is either code nobody read or a build that
// will silently stop happening (the `zookeeper` addon). Run after `npm install` (CI does).
// Usage: node scripts/check-install-scripts.mjs [project dir]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? '.');

function fail(message) {
  process.stderr.write(`check-install-scripts: ${message}\n`);
  process.exit(1);
}

let raw;
try {
  raw = execFileSync('npm', ['install-scripts', 'ls', '--json'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
} catch (err) {
  fail(`\`npm install-scripts ls\` failed (npm >= 11.19 needed): ${err.stderr || err.message}`);
}

let report;
try {
  report = JSON.parse(raw);
} catch {
  fail(`cannot parse \`npm install-scripts ls --json\` output: ${raw.slice(0, 200)}`);
}
if (!report || !Array.isArray(report.allowScripts)) {
  fail(`unexpected \`npm install-scripts ls --json\` output: ${raw.slice(0, 200)}`);
}

const pending = [];
for (const pkg of report.allowScripts) {
  for (const change of pkg.changes ?? []) {
    if (change.change === 'pending') pending.push(change.key ?? pkg.name);
  }
}

const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const policy = manifest.allowScripts ?? {};
const approved = Object.keys(policy).filter((k) => policy[k] === true);
const denied = Object.keys(policy).filter((k) => policy[k] === false);

if (pending.length > 0) {
  fail(
    `${pending.length} install script(s) not reviewed: ${pending.join(', ')}\n` +
      'Read what each script does (npm install-scripts ls shows the command), then add the\n' +
      'package to package.json "allowScripts" as true (needed) or false (denied), and note why\n' +
      'in docs/operations.md ("Install scripts").',
  );
}
process.stdout.write(
  `check-install-scripts: every install script is reviewed (approved: ${approved.join(', ') || 'none'}; denied: ${denied.join(', ') || 'none'})\n`,
);
