import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { archiveKind, FetchError, fetchUris } from '../../agent/fetcher.js';
import { requireReal } from '../support/require-real.js';

function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('fetcher', () => {
  let root: string;
  let files: string;
  let server: http.Server;
  let base: string;
  const hits = new Map<string, number>();
  let n = 0;

  const sandbox = async () => {
    const d = path.join(root, `sandbox-${n++}`);
    await fs.mkdir(d);
    return d;
  };

  async function failure(p: Promise<unknown>): Promise<FetchError> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(FetchError);
      expect((e as FetchError).code).to.equal('AGORA_FETCH_FAILED');
      return e as FetchError;
    }
    expect.fail('expected a FetchError');
  }

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'agora-fetcher-'));
    files = path.join(root, 'files');
    const content = path.join(root, 'content');
    await fs.mkdir(path.join(content, 'app'), { recursive: true });
    await fs.writeFile(path.join(content, 'app', 'hello.txt'), 'hello from an archive\n');
    await fs.writeFile(path.join(content, 'app', 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
    await fs.mkdir(files);
    execFileSync('tar', ['-C', content, '-czf', path.join(files, 'app.tar.gz'), 'app']);
    execFileSync('tar', ['-C', content, '-czf', path.join(files, 'app.tgz'), 'app']);
    execFileSync('tar', ['-C', content, '-cf', path.join(files, 'app.tar'), 'app']);
    if (hasTool('zip')) execFileSync('zip', ['-q', '-r', path.join(files, 'app.zip'), 'app'], { cwd: content });
    else if (hasTool('python3')) {
      execFileSync('python3', [
        '-c',
        'import shutil,sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2], "app")',
        path.join(files, 'app'),
        content,
      ]);
    }
    await fs.writeFile(path.join(files, 'notes.txt.gz'), gzipSync('gzipped notes\n'));
    await fs.writeFile(path.join(files, 'tool'), '#!/bin/sh\necho "tool says $1"\n');
    await fs.writeFile(path.join(files, 'plain.txt'), 'plain\n');

    server = http.createServer(async (req, res) => {
      const url = req.url ?? '/';
      hits.set(url, (hits.get(url) ?? 0) + 1);
      if (url === '/redirect') {
        res.writeHead(302, { location: '/files/plain.txt' }).end();
        return;
      }
      const m = /^\/files\/([^?]+)/.exec(url);
      const file = m ? path.join(files, decodeURIComponent(m[1])) : '';
      if (!m || !existsSync(file)) {
        res.writeHead(404).end('no such thing');
        return;
      }
      res.writeHead(200).end(await fs.readFile(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await fs.rm(root, { recursive: true, force: true });
  });

  it('recognises archive names', () => {
    expect(archiveKind('a.tar.gz')).to.equal('tar');
    expect(archiveKind('a.TGZ')).to.equal('tar');
    expect(archiveKind('a.tar.xz')).to.equal('tar');
    expect(archiveKind('a.zip')).to.equal('zip');
    expect(archiveKind('a.txt.gz')).to.equal('gzip');
    expect(archiveKind('a.txt')).to.equal(undefined);
  });

  it('downloads over HTTP into the sandbox, following redirects, named after the URL path', async () => {
    const s = await sandbox();
    await fetchUris([{ value: `${base}/files/plain.txt?x=1` }, { value: `${base}/redirect`, output_file: 'r.txt' }], s);
    expect(await fs.readFile(path.join(s, 'plain.txt'), 'utf8')).to.equal('plain\n');
    expect(await fs.readFile(path.join(s, 'r.txt'), 'utf8')).to.equal('plain\n');
  });

  it('copies file:// URIs and absolute paths, with output_file subdirectories', async () => {
    const s = await sandbox();
    await fetchUris(
      [
        { value: pathToFileURL(path.join(files, 'plain.txt')).href },
        { value: path.join(files, 'plain.txt'), output_file: 'conf/copy.txt' },
      ],
      s,
    );
    expect(await fs.readFile(path.join(s, 'plain.txt'), 'utf8')).to.equal('plain\n');
    expect(await fs.readFile(path.join(s, 'conf/copy.txt'), 'utf8')).to.equal('plain\n');
  });

  it('makes executables runnable (755) and does not extract them', async () => {
    const s = await sandbox();
    await fetchUris([{ value: `${base}/files/tool`, executable: true }], s);
    expect(statSync(path.join(s, 'tool')).mode & 0o777).to.equal(0o755);
    expect(execFileSync(path.join(s, 'tool'), ['hi'], { encoding: 'utf8' })).to.equal('tool says hi\n');
  });

  for (const name of ['app.tar.gz', 'app.tgz', 'app.tar', 'app.zip']) {
    it(`extracts ${name} into the sandbox (extract defaults to true)`, async function () {
      requireReal(this, `a ${name} archive`, {
        ok: existsSync(path.join(files, name)),
        reason: 'it could not be built here: install zip or python3',
      });
      const s = await sandbox();
      await fetchUris([{ value: `${base}/files/${name}` }], s);
      expect(await fs.readFile(path.join(s, 'app', 'hello.txt'), 'utf8')).to.equal('hello from an archive\n');
      expect(execFileSync(path.join(s, 'app', 'run.sh'), { encoding: 'utf8' })).to.equal('ran\n');
      expect(existsSync(path.join(s, name))).to.equal(true);
    });
  }

  it('gunzips a plain .gz file', async () => {
    const s = await sandbox();
    await fetchUris([{ value: `${base}/files/notes.txt.gz` }], s);
    expect(await fs.readFile(path.join(s, 'notes.txt'), 'utf8')).to.equal('gzipped notes\n');
  });

  it('leaves archives packed with extract: false', async () => {
    const s = await sandbox();
    await fetchUris([{ value: `${base}/files/app.tar.gz`, extract: false }], s);
    expect(existsSync(path.join(s, 'app.tar.gz'))).to.equal(true);
    expect(existsSync(path.join(s, 'app'))).to.equal(false);
  });

  it('caches downloads by URI and reuses them', async () => {
    const cacheDir = path.join(root, 'cache');
    const uri = `${base}/files/app.tgz?cached`;
    const a = await sandbox();
    const b = await sandbox();
    await fetchUris([{ value: uri, cache: true }], a, { cacheDir });
    await fetchUris([{ value: uri, cache: true, output_file: 'again.tgz' }], b, { cacheDir });
    expect(hits.get('/files/app.tgz?cached')).to.equal(1);
    const key = createHash('sha256').update(uri).digest('hex');
    expect(existsSync(path.join(cacheDir, key))).to.equal(true);
    expect(await fs.readFile(path.join(b, 'app', 'hello.txt'), 'utf8')).to.equal('hello from an archive\n');
    expect(existsSync(path.join(b, 'again.tgz'))).to.equal(true);
  });

  it('fails with the URI and the HTTP status', async () => {
    const e = await failure(fetchUris([{ value: `${base}/files/missing.bin` }], await sandbox()));
    expect(e.message).to.equal(`could not fetch '${base}/files/missing.bin': HTTP 404 Not Found`);
    expect(e.uri).to.equal(`${base}/files/missing.bin`);
  });

  it('fails when the server cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await failure(fetchUris([{ value: `http://127.0.0.1:${port}/x` }], await sandbox()));
    expect(e.message).to.match(/ECONNREFUSED/);
  });

  it('fails for missing local files, unsupported schemes, relative paths and escaping output files', async () => {
    const s = await sandbox();
    expect((await failure(fetchUris([{ value: '/nonexistent/agora/file' }], s))).message).to.match(/no such file/);
    expect((await failure(fetchUris([{ value: 'hdfs://nn/file' }], s))).message).to.match(/'hdfs' scheme/);
    expect((await failure(fetchUris([{ value: 'relative/file' }], s))).message).to.match(/relative paths/);
    const escaping = fetchUris([{ value: `${base}/files/plain.txt`, output_file: '../outside' }], s);
    expect((await failure(escaping)).message).to.match(/outside the sandbox/);
    expect(existsSync(path.join(root, 'outside'))).to.equal(false);
  });

  it('reports a broken archive clearly', async () => {
    await fs.writeFile(path.join(files, 'broken.tar.gz'), 'not an archive at all');
    const e = await failure(fetchUris([{ value: `${base}/files/broken.tar.gz` }], await sandbox()));
    expect(e.message).to.match(/could not extract broken\.tar\.gz/);
  });
});
