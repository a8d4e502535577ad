/**
 * Every fixture definition posted to the REST API as a user would (apps to /v2/apps, groups to
 * /v2/groups, pods to /v2/pods): Marathon's refusals answer 422 and change nothing, every other
 * one answers 201, deploys, and gets its instances launched on a large enough offer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from 'agora/sdk/testing';
import { expect } from 'chai';
import pino from 'pino';
import { MarathonNode } from '../../../frameworks/marathon/node.js';
import { FakeDriver, offer } from './harness.js';

const DIR = fileURLToPath(new URL('../../../../test/fixtures/marathon/', import.meta.url));
const sources = JSON.parse(readFileSync(`${DIR}SOURCES.json`, 'utf8')) as { file: string; kind: string }[];
const REFUSED = new Set(['marathon-repo__docs__docs__rest-api__public__api__v2__examples__app.json']);

describe('fixtures through the REST API', () => {
  for (const s of sources) {
    it(`${s.file} (${s.kind})`, async () => {
      let driver = new FakeDriver();
      const node = new MarathonNode({
        store: new MemoryStore(),
        host: '127.0.0.1',
        port: 0,
        logger: pino({ level: 'silent' }),
        createDriver: () => {
          driver = new FakeDriver();
          return driver;
        },
      });
      await node.start();
      try {
        driver.emit('subscribed', { frameworkId: 'fw', masterInfo: {}, resubscribed: false });
        const json = JSON.parse(readFileSync(DIR + s.file, 'utf8')) as unknown;
        const base = `http://127.0.0.1:${node.port}`;
        if (s.file.endsWith('apps_patch.json')) {
          // A PATCH body: partial updates of existing apps.
          for (const id of ['/test/sleep60', '/test/sleep120']) {
            await fetch(`${base}/v2/apps`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ id, cmd: 'sleep 60' }),
            });
          }
          const r = await fetch(`${base}/v2/apps?force=true`, {
            method: 'PATCH',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(json),
          });
          expect(r.status, await r.text()).to.equal(200);
          const apps = (await (await fetch(`${base}/v2/apps`)).json()).apps as {
            id: string;
            cpus: number;
            instances: number;
            cmd: string;
          }[];
          expect(apps.map((a) => [a.id, a.cpus, a.instances, a.cmd])).to.deep.equal([
            ['/test/sleep120', 1, 2, 'sleep 60'],
            ['/test/sleep60', 0.3, 1, 'sleep 60'],
          ]);
          return;
        }
        const items = Array.isArray(json) ? json : [json];
        for (const item of items) {
          const kind = s.kind.startsWith('pod') ? 'pods' : s.kind.startsWith('group') ? 'groups' : 'apps';
          const r = await fetch(`http://127.0.0.1:${node.port}/v2/${kind}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(item),
          });
          const body = await r.text();
          if (REFUSED.has(s.file)) {
            expect(r.status, body).to.equal(422);
            continue;
          }
          expect([201, 409], body).to.include(r.status);
        }
        // A big offer: whatever fits gets launched, and nothing throws on the way.
        driver.emit('offers', [offer('a1', { cpus: 1000, mem: 1_000_000, ports: [1, 65000] })]);
        const stats = await (await fetch(`http://127.0.0.1:${node.port}/v2/queue`)).json();
        expect(stats.queue).to.be.an('array');
        expect((await fetch(`http://127.0.0.1:${node.port}/v2/deployments`)).status).to.equal(200);
      } finally {
        await node.close();
      }
    });
  }
});
