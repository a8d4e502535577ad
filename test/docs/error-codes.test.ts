/** The error-code catalogue (docs/errors.md) and the codes the source raises must agree. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../support/cluster.js';

/** Environment variables share the prefix but are not error codes. */
const NOT_CODES = new Set(['AGORA_LOG_LEVEL', 'AGORA_TASK_ID', 'AGORA_ZK', 'AGORA_TEST_LOG_LEVEL']);

function sources(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('error codes', () => {
  const used = new Set<string>();
  for (const top of ['sdk', 'master', 'agent', 'cli', 'frameworks']) {
    let files: string[] = [];
    try {
      files = sources(join(REPO_ROOT, top));
    } catch {
      continue;
    }
    for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/AGORA_[A-Z_]+/g)) used.add(m[0]);
  }
  for (const c of NOT_CODES) used.delete(c);
  const doc = readFileSync(join(REPO_ROOT, 'docs/errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/`(AGORA_[A-Z_]+)`/g)].map((m) => m[1]));

  it('documents every code the source raises', () => {
    expect([...used].filter((c) => !documented.has(c)).sort()).to.deep.equal([]);
  });

  it('documents no code the source no longer has', () => {
    expect([...documented].filter((c) => !used.has(c)).sort()).to.deep.equal([]);
  });
});
