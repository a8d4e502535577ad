/**
 * Real-world definitions beyond the shared fixtures (test/fixtures/marathon-extra/, provenance in
 * its SOURCES.json) are accepted, and the lenient reading Marathon's generated JSON readers do:
 * enums in any case, `null` fields absent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { normalizeApp, normalizePod } from '../../../../frameworks/marathon/model/index.js';

const DIR = fileURLToPath(new URL('../../../../../test/fixtures/marathon-extra/', import.meta.url));
const sources = JSON.parse(readFileSync(DIR + 'SOURCES.json', 'utf8')) as { file: string; why: string }[];

describe('Marathon real-world definitions (test/fixtures/marathon-extra)', () => {
  it('SOURCES.json lists every file', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'SOURCES.json');
    expect(files.sort()).to.deep.equal(sources.map((s) => s.file).sort());
  });
  for (const s of sources) {
    it(`${s.file}: ${s.why}`, () => {
      const r = normalizeApp(JSON.parse(readFileSync(DIR + s.file, 'utf8')));
      expect(r.ok ? 'accepted' : JSON.stringify(r.body)).to.equal('accepted');
    });
  }
});

describe('marathon/model reads enums in any case, as Marathon does', () => {
  it('app enums take their declared spelling', () => {
    const r = normalizeApp({
      id: '/e',
      killSelection: 'oldest_first',
      container: { type: 'docker', docker: { image: 'nginx', network: 'bridge' } },
      healthChecks: [{ protocol: 'http', portIndex: 0 }],
      portDefinitions: undefined,
    });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    if (!r.ok) return;
    expect(r.value.killSelection).to.equal('OLDEST_FIRST');
    expect(r.value.container?.type).to.equal('DOCKER');
    expect(r.value.networks).to.deep.equal([{ mode: 'container/bridge' }]);
    expect(r.value.healthChecks[0].protocol).to.equal('HTTP');
  });
  it('pod enums and nulls (Marathon system test pods use "scheme": "http" and "containerPort": null)', () => {
    const r = normalizePod({
      id: '/p',
      containers: [
        {
          name: 'web',
          resources: { cpus: 0.1, mem: 32 },
          endpoints: [{ name: 'http', containerPort: null, hostPort: 0, protocol: ['http'] }],
          healthCheck: { http: { endpoint: 'http', path: '/', scheme: 'http' } },
        },
      ],
      networks: [{ name: null, mode: 'host' }],
    });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    if (r.ok) expect(r.value.containers[0].healthCheck?.http?.scheme).to.equal('HTTP');
  });
  it('an unknown enum value is still refused', () => {
    const r = normalizeApp({ id: '/e', cmd: 'x y', killSelection: 'random' });
    expect(!r.ok && r.body).to.deep.equal({
      message: 'Invalid JSON',
      details: [{ path: '/killSelection', errors: ['error.unknown.enum.literal'] }],
    });
  });
});
