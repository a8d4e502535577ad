/**
 * The SDK from OUTSIDE this repository (docs/sdk.md, "Using the SDK in your own project"): the
 * package as `npm pack` makes it, installed into a fresh project in a temp dir, whose TypeScript
 * compiles the tutorial's framework (copied verbatim) and a test of it on `agora/sdk/testing`
 * against the emitted declarations, and whose Node runs that test. Nothing of the repository is
 * reachable from the project but the installed package and its dependencies.
 *
 * The tarball is unpacked into `node_modules/agora` by hand and its dependencies are linked from
 * this checkout's node_modules (the versions package-lock.json resolved), so the test needs no
 * registry; `npm install <tarball>` does the same with a registry.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/**
 * The consumer's test: the one docs/sdk.md shows in "Using the SDK in your own project" (so the page
 * and this test cannot drift apart), on node:test (the project has no mocha).
 */
function consumerTest(): string {
  const doc = readFileSync(join(ROOT, 'docs/sdk.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Using the SDK in your own project'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block?.includes("from 'agora/sdk/testing'"))
    throw new Error('docs/sdk.md: the test of "Using the SDK in your own project" is gone');
  return block;
}

/** A type error the consumer's compiler must catch through the declarations (proof they are read). */
const TYPE_ERROR = `import { Resources } from 'agora/sdk';
const n: number = Resources.parse('cpus:1');
export { n };
`;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

function link(project: string, name: string): void {
  const to = join(project, 'node_modules', name);
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(realpathSync(join(ROOT, 'node_modules', name)), to, 'dir');
}

describe('the SDK in a project of its own: npm pack, install, type-check, test (@integration)', function () {
  this.timeout(180_000);
  let dir: string;
  let project: string;
  let files: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'agora-sdk-package-'));
    project = join(dir, 'my-framework');
    // The declarations of the public entries (the suite's build made the JavaScript).
    run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], ROOT);
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT));
    files = packed[0].files.map((f: { path: string }) => f.path);
    mkdirSync(join(project, 'node_modules/agora'), { recursive: true });
    run(
      'tar',
      ['-xzf', join(dir, packed[0].filename), '-C', join(project, 'node_modules/agora'), '--strip-components=1'],
      dir,
    );
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const name of Object.keys(pkg.dependencies)) link(project, name);
    // The project's own tools: TypeScript and Node's types.
    for (const name of ['typescript', '@types/node']) link(project, name);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'my-framework', private: true, type: 'module', dependencies: { agora: '*' } }),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          outDir: 'out',
          rootDir: 'src',
          types: ['node'],
        },
        include: ['src/**/*.ts'],
      }),
    );
    mkdirSync(join(project, 'src'));
    cpSync(join(ROOT, 'examples/tutorial/framework.ts'), join(project, 'src/framework.ts'));
    writeFileSync(join(project, 'src/framework.test.ts'), consumerTest());
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball has the built SDK, the master it tests on, the CLI and the declarations; no tests, no sources', () => {
    for (const f of ['dist/sdk/index.js', 'dist/sdk/index.d.ts', 'dist/sdk/testing/index.d.ts', 'bin/agora']) {
      expect(files, f).to.include(f);
    }
    expect(files.some((f) => f.startsWith('dist/master/testing/'))).to.equal(true);
    expect(files.some((f) => f.startsWith('dist/cli/'))).to.equal(true);
    expect(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/'))).to.deep.equal([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).to.deep.equal([]);
    expect(files.filter((f) => f.endsWith('.map'))).to.deep.equal([]);
  });

  it('type-checks the tutorial framework and its test against agora/sdk and agora/sdk/testing, and runs the test', () => {
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    expect(existsSync(join(project, 'out/framework.js'))).to.equal(true);
    const out = run(process.execPath, ['--test', 'out/framework.test.js'], project);
    expect(out).to.match(/# pass 1/);
    expect(out).to.match(/# fail 0/);
  });

  it("the project's compiler reads the SDK's declarations (a wrong type is an error, not any)", () => {
    writeFileSync(join(project, 'src/wrong.ts'), TYPE_ERROR);
    try {
      let failed = '';
      try {
        run(process.execPath, [TSC, '-p', 'tsconfig.json', '--noEmit'], project);
      } catch (e) {
        failed = String((e as { stdout?: string }).stdout ?? e);
      }
      expect(failed).to.match(/wrong\.ts.*TS2322/s);
      expect(failed).to.match(/Resources/);
    } finally {
      rmSync(join(project, 'src/wrong.ts'));
    }
  });
});
