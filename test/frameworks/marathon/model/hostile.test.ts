/**
 * Hostile input (property): whatever JSON arrives, the normalisers answer a value (the canonical
 * definition, or a 4xx body with a message and details) and never throw; a fixture with one field
 * replaced by arbitrary JSON is answered the same way.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  type Normalized,
  normalizeApp,
  normalizeGroup,
  normalizePod,
  readAppUpdate,
} from '../../../../frameworks/marathon/model/index.js';

const DIR = fileURLToPath(new URL('../../../../../test/fixtures/marathon/', import.meta.url));
const fixture = (f: string) => JSON.parse(readFileSync(DIR + f, 'utf8')) as Record<string, unknown>;
const bridgeApp = fixture('marathon-repo__examples__bridge.json');
const group = fixture('marathon-repo__docs__docs__rest-api__public__api__v2__examples__group.json');
const pod = fixture('marathon-repo__docs__docs__rest-api__public__api__v2__examples__pod.json');

function wellFormed(r: Normalized<unknown>): boolean {
  if (r.ok) return true;
  return (
    (r.status === 422 || r.status === 400) &&
    typeof r.body.message === 'string' &&
    Array.isArray(r.body.details) &&
    r.body.details.length > 0 &&
    r.body.details.every((d) => typeof d.path === 'string' && d.path.startsWith('/') && d.errors.length > 0)
  );
}

const anyJson = fc.jsonValue({ maxDepth: 4 });
const FIELDS = Object.keys(bridgeApp).concat([
  'container',
  'portDefinitions',
  'networks',
  'ipAddress',
  'env',
  'secrets',
]);

describe('marathon/model hostile input (property)', () => {
  it('arbitrary JSON: every normaliser answers a value', () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        return [normalizeApp(v), normalizeGroup(v), normalizePod(v), readAppUpdate(v)].every(wellFormed);
      }),
      { numRuns: 500 },
    );
  });

  it('a real app with one field replaced by arbitrary JSON is answered, never thrown', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), anyJson, (field, v) => {
        const app = { ...bridgeApp, [field]: v };
        return wellFormed(normalizeApp(app));
      }),
      { numRuns: 1000 },
    );
  });

  it('nested fields of a real app replaced by arbitrary JSON', () => {
    const paths: string[][] = [
      ['container', 'docker'],
      ['container', 'docker', 'portMappings'],
      ['container', 'portMappings'],
      ['container', 'volumes'],
      ['healthChecks', '0'],
      ['healthChecks', '0', 'command'],
      ['upgradeStrategy'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...paths), anyJson, (path, v) => {
        const app = structuredClone(bridgeApp) as Record<string, unknown>;
        let cur: Record<string, unknown> = app;
        for (const k of path.slice(0, -1)) {
          if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
          cur = cur[k] as Record<string, unknown>;
        }
        cur[path[path.length - 1]] = v;
        return wellFormed(normalizeApp(app));
      }),
      { numRuns: 1000 },
    );
  });

  it('groups and pods with one field replaced', () => {
    fc.assert(
      fc.property(fc.constantFrom('apps', 'groups', 'dependencies', 'id', 'pods'), anyJson, (field, v) => {
        return wellFormed(normalizeGroup({ ...group, [field]: v }));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(pod)), anyJson, (field, v) => {
        return wellFormed(normalizePod({ ...pod, [field]: v }));
      }),
      { numRuns: 500 },
    );
  });

  it('the fixtures themselves are untouched by normalisation (inputs are not mutated)', () => {
    const before = JSON.stringify(bridgeApp);
    normalizeApp(bridgeApp);
    expect(JSON.stringify(bridgeApp)).to.equal(before);
  });
});
