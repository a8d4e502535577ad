/** docs/api.md lists every route the master and the agent declare, and every action they declare. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildAgentHttp } from '../../../agent/http/index.js';
import { buildMasterHttp } from '../../../master/http/index.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { agentView } from '../../agent/http/support.js';
import { REPO_ROOT } from '../../support/cluster.js';
import { silent } from './support.js';

async function routesOf(app: AgoraHttp): Promise<{ method: string; url: string; action: string }[]> {
  const out: { method: string; url: string; action: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD') out.push({ method, url: r.url, action: r.config?.action ?? '' });
    }
  });
  await app.ready();
  await app.close();
  return out;
}

describe('docs/api.md', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/api.md'), 'utf8');

  for (const [surface, build] of [
    ['master', () => buildMasterHttp({ logger: silent, current: () => undefined, leader: () => undefined })],
    ['agent', () => buildAgentHttp(agentView(), { logger: silent })],
  ] as const) {
    it(`lists every ${surface} route and its action`, async () => {
      const routes = await routesOf(build());
      expect(routes.length).to.be.above(5);
      const missing = routes
        .filter(({ method, url }) => {
          // The rest of the path: a role (quota) or a secret's name.
          return !['<role>', '<name>'].some((w) => {
            const shown = url.replace('*', w);
            return doc.includes(`${method} ${shown}`) || doc.includes(`\`${shown}\``);
          });
        })
        .map(({ method, url }) => `${method} ${url}`);
      expect(missing).to.deep.equal([]);
      const actions = [...new Set(routes.map((r) => r.action))].filter((a) => !doc.includes(`\`${a}\``));
      expect(actions).to.deep.equal([]);
    });
  }
});
