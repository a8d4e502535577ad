/** The error-code catalogue (docs/errors.md) and the codes the source raises must agree. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import * as agentErrors from '../../agent/errors.js';
import * as chronosErrors from '../../frameworks/chronos/errors.js';
import * as marathonErrors from '../../frameworks/marathon/errors.js';
import * as masterErrors from '../../master/errors.js';
import * as v1SchedulerErrors from '../../master/http/v1-scheduler-errors.js';
import * as authErrors from '../../sdk/auth/errors.js';
import * as sdkErrors from '../../sdk/errors.js';
import { codesOf, type ErrorClass } from '../../sdk/errors.js';
import * as httpErrors from '../../sdk/http/errors.js';
import * as mesosErrors from '../../sdk/mesos/errors.js';
import * as offersErrors from '../../sdk/offers/errors.js';
import * as driverErrors from '../../sdk/scheduler/errors.js';
import * as secretsErrors from '../../sdk/secrets/errors.js';
import * as tlsErrors from '../../sdk/tls/errors.js';
import { REPO_ROOT } from '../support/cluster.js';

/** Every catalogue: its entries are the error classes it exports. */
const CATALOGUES: Record<string, Record<string, unknown>> = {
  'sdk/errors.ts': sdkErrors,
  'sdk/http/errors.ts': httpErrors,
  'sdk/auth/errors.ts': authErrors,
  'sdk/tls/errors.ts': tlsErrors,
  'sdk/secrets/errors.ts': secretsErrors,
  'master/errors.ts': masterErrors,
  'agent/errors.ts': agentErrors,
  'frameworks/chronos/errors.ts': chronosErrors,
  'frameworks/marathon/errors.ts': marathonErrors,
  'sdk/mesos/errors.ts': mesosErrors,
  'master/http/v1-scheduler-errors.ts': v1SchedulerErrors,
  'sdk/offers/errors.ts': offersErrors,
  'sdk/scheduler/errors.ts': driverErrors,
};

function entries(catalogue: Record<string, unknown>): ErrorClass[] {
  const codes = new Set(codesOf(catalogue));
  return Object.values(catalogue).filter(
    (v): v is ErrorClass => typeof v === 'function' && codes.has((v as { code?: string }).code as string),
  );
}

/** Environment variables share the prefix but are not error codes. */
const NOT_CODES = new Set([
  'AGORA_LOG_LEVEL',
  'AGORA_SPAWN_HELPER',
  'AGORA_TASK_ID',
  'AGORA_ZK',
  'AGORA_ZK_THREAD',
  'AGORA_TEST_LOG_LEVEL',
  'AGORA_X_NOT_FOUND',
]);

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

  /** The HTTP status each row states (its last cell), where it states one. */
  const statusOf = new Map<string, number>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`(AGORA_[A-Z_]+)`\s*\|.*\|\s*(\d{3})\s*\|\s*$/.exec(line);
    if (m) statusOf.set(m[1], Number(m[2]));
  }

  it('documents every catalogue entry, with the status its catalogue declares', () => {
    const wrong: string[] = [];
    for (const [file, catalogue] of Object.entries(CATALOGUES)) {
      for (const e of entries(catalogue)) {
        if (!documented.has(e.code)) wrong.push(`${e.code} (${file}) has no row`);
        else if (statusOf.has(e.code) && statusOf.get(e.code) !== e.statusCode) {
          wrong.push(`${e.code} (${file}) answers ${e.statusCode}, the page says ${statusOf.get(e.code)}`);
        }
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('never gives one code to two catalogue entries', () => {
    const all = Object.values(CATALOGUES).flatMap((c) => codesOf(c));
    expect(all.filter((c, i) => all.indexOf(c) !== i)).to.deep.equal([]);
  });

  it('states a status for every code of the HTTP, master and agent catalogues', () => {
    const missing = [httpErrors, masterErrors, agentErrors].flatMap((c) => codesOf(c)).filter((c) => !statusOf.has(c));
    expect(missing).to.deep.equal([]);
  });
});
