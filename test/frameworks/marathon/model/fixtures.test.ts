/**
 * Every definition in test/fixtures/marathon/ (real specs from Marathon's repository and public
 * DC/OS projects, listed in SOURCES.json) is accepted, or refused with the 422 Marathon 1.10 gives.
 *
 * Marathon checks the deprecated API first (AppHelpers.appNormalization), so the docs' app.json,
 * which also sets both `cmd` and `args`, is refused for its `ipAddress.discovery` with a Docker
 * container; without the deprecated `ipAddress` it is refused for `cmd` + `args`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  type ErrorBody,
  normalizeApp,
  normalizeGroup,
  normalizePod,
  readAppUpdate,
} from '../../../../frameworks/marathon/model/index.js';

const DIR = fileURLToPath(new URL('../../../../../test/fixtures/marathon/', import.meta.url));

interface Source {
  file: string;
  kind: string;
  apps: number;
  groups: number;
  features: string[];
}

/** The fixtures Marathon refuses, with its exact answer. */
const REJECTED: Record<string, ErrorBody> = {
  'marathon-repo__docs__docs__rest-api__public__api__v2__examples__app.json': {
    message: 'Object is not valid',
    details: [
      { path: '/ipAddress', errors: ['ipAddress/discovery is not allowed for Docker containers'] },
      { path: '/', errors: ['cannot specify both an IP address and port'] },
    ],
  },
};

const sources = JSON.parse(readFileSync(DIR + 'SOURCES.json', 'utf8')) as Source[];

function sortDetails(b: ErrorBody): ErrorBody {
  // Marathon groups violations in a hash map: their order carries no meaning.
  return { ...b, details: [...(b.details ?? [])].sort((x, y) => x.path.localeCompare(y.path)) };
}

describe('Marathon fixtures (test/fixtures/marathon)', () => {
  it('SOURCES.json lists every fixture file', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'SOURCES.json');
    expect(files.sort()).to.deep.equal(sources.map((s) => s.file).sort());
    expect(files.length).to.be.greaterThan(40);
  });

  for (const s of sources) {
    it(`${s.file} (${s.kind})`, () => {
      const json = JSON.parse(readFileSync(DIR + s.file, 'utf8')) as unknown;
      const items = Array.isArray(json) ? json : [json];
      if (s.kind === 'app[]') expect(items.length).to.equal(s.apps);
      for (const item of items) {
        const isPatch = s.file.includes('apps_patch');
        const r = isPatch
          ? readAppUpdate(item)
          : s.kind.startsWith('group')
            ? normalizeGroup(item)
            : s.kind.startsWith('pod')
              ? normalizePod(item)
              : normalizeApp(item);
        const expected = REJECTED[s.file];
        if (expected) {
          expect(r.ok, 'refused').to.equal(false);
          if (!r.ok) {
            expect(r.status).to.equal(422);
            expect(sortDetails(r.body)).to.deep.equal(sortDetails(expected));
          }
        } else {
          expect(r.ok ? 'accepted' : JSON.stringify(r.body)).to.equal('accepted');
        }
      }
    });
  }

  it("the docs' app.json without the deprecated ipAddress is refused for setting both cmd and args", () => {
    const raw = JSON.parse(
      readFileSync(DIR + 'marathon-repo__docs__docs__rest-api__public__api__v2__examples__app.json', 'utf8'),
    ) as Record<string, unknown>;
    delete raw.ipAddress;
    // (its env also names the secret by source instead of by name: point it at the declared one)
    (raw.env as Record<string, unknown>).PASSWORD = { secret: 'secret1' };
    const r = normalizeApp(raw);
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.status).to.equal(422);
      expect(r.body).to.deep.equal({
        message: 'Object is not valid',
        details: [
          { path: '/', errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."] },
        ],
      });
    }
    delete raw.args;
    expect(normalizeApp(raw).ok).to.equal(true);
  });

  it('group fixtures keep every app, resolved to absolute ids under their group', () => {
    for (const s of sources.filter((x) => x.kind.startsWith('group'))) {
      const r = normalizeGroup(JSON.parse(readFileSync(DIR + s.file, 'utf8')));
      expect(r.ok).to.equal(true);
      if (!r.ok) continue;
      let apps = 0;
      let groups = 1; // SOURCES.json counts the posted group itself
      const walk = (g: typeof r.value) => {
        for (const a of g.apps) {
          expect(a.id.startsWith(g.id === '/' ? '/' : g.id + '/'), a.id).to.equal(true);
          apps++;
        }
        for (const c of g.groups) {
          groups++;
          walk(c);
        }
      };
      walk(r.value);
      expect(apps, s.file).to.equal(s.apps);
      expect(groups, s.file).to.equal(s.groups);
    }
  });
});
