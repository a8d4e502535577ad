/** `--webui_dir`: Mesos's web UI files served by the master, and nothing outside them. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildMasterHttp } from '../../../master/http/index.js';
import type { Master } from '../../../master/master.js';
import type { AgoraHttp } from '../../../sdk/http/index.js';
import { tempDir } from '../../support/cluster.js';
import { silent } from './support.js';

describe('master --webui_dir', () => {
  let app: AgoraHttp;
  before(async () => {
    const dir = tempDir('webui');
    mkdirSync(join(dir, 'app'));
    mkdirSync(join(dir, 'assets', 'css'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<html>mesos</html>');
    writeFileSync(join(dir, 'app', 'app.js'), 'var x = 1;');
    writeFileSync(join(dir, 'assets', 'css', 'mesos.css'), 'body {}');
    const outside = tempDir('webui-outside');
    writeFileSync(join(outside, 'secret.txt'), 'S3CRET-OUTSIDE');
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'app', 'leak.js'));
    // A master that only says it leads: the files need nothing else of it.
    const leading = { leading: true, info: { id: 'm' } } as unknown as Master;
    app = buildMasterHttp({ logger: silent, current: () => leading, leader: () => undefined, webuiDir: dir });
    await app.ready();
  });
  after(() => app.close());

  it('serves index.html at /, and the app and assets files with their types', async () => {
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).to.equal(200);
    expect(root.headers['content-type']).to.match(/^text\/html/);
    expect(root.body).to.equal('<html>mesos</html>');
    const js = await app.inject({ url: '/app/app.js' });
    expect(js.headers['content-type']).to.match(/^application\/javascript/);
    expect(js.body).to.equal('var x = 1;');
    expect((await app.inject({ url: '/assets/css/mesos.css' })).headers['content-type']).to.match(/^text\/css/);
  });

  for (const url of [
    '/app/../../etc/passwd',
    '/app/..%2f..%2f..%2fetc%2fpasswd',
    '/app/leak.js',
    '/app/',
    '/app/nope.js',
    '/assets/css',
  ]) {
    it(`answers 404 for ${url}`, async () => {
      const r = await app.inject({ url });
      expect(r.statusCode).to.equal(404);
      expect(r.body).to.not.include('S3CRET-OUTSIDE');
      expect(r.body).to.not.include('root:');
    });
  }
});
