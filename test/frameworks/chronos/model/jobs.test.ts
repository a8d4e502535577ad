/**
 * The two faces and the one model: Chronos's and Metronome's defaults, the mapping both ways
 * (a job created through one face is visible through the other), round trips, updates through the
 * other face, and clear refusals for invalid or hostile input.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  type Checked,
  describeProblems,
  type Job,
  jobFromChronos,
  jobFromMetronome,
  jobToChronos,
  jobToMetronome,
  mergeUpdate,
  scheduleFromMetronome,
  scheduleToMetronome,
} from '../../../../frameworks/chronos/model/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const fixture = (f: string) => JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/chronos', f), 'utf8'));
const NOW = Date.parse('2026-11-30T12:00:00Z');

function ok(r: Checked<Job>): Job {
  if (!r.ok) throw new Error(describeProblems(r.problems));
  return r.value;
}
function refused(r: Checked<unknown>): string {
  if (r.ok) throw new Error('accepted');
  return describeProblems(r.problems);
}

describe('chronos model: jobs through both faces', () => {
  it("Chronos's defaults", () => {
    const j = ok(jobFromChronos({ name: 'n', command: 'true', schedule: 'R/2026-01-01T00:00:00Z/PT1M' }, { now: NOW }));
    expect(j).to.deep.include({
      shell: true,
      arguments: [],
      retries: 2,
      restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: null },
      retryDelaySeconds: 60,
      startingDeadlineSeconds: 60,
      concurrencyPolicy: 'FORBID',
      missedRunPolicy: 'RUN_ONCE',
      disabled: false,
      softError: false,
      highPriority: false,
      cpus: 0.1,
      mem: 128,
      disk: 256,
      user: '',
      maxCompletionTimeSeconds: 0,
      container: null,
      parents: [],
    });
    expect(j.counters).to.deep.equal({
      successCount: 0,
      errorCount: 0,
      lastSuccess: '',
      lastError: '',
      errorsSinceLastSuccess: 0,
    });
  });

  it('Chronos quirks: numeric strings, 0 means the default, epsilon, concurrent, uris', () => {
    const j = ok(jobFromChronos(fixture('chronos-doc-docker-dockerjob.json'), { now: NOW }));
    expect(j).to.deep.include({ cpus: 0.5, mem: 512, disk: 256 });
    expect(j.container).to.deep.include({ type: 'DOCKER', image: 'libmesos/ubuntu', network: 'BRIDGE' });
    expect(j.volumes).to.deep.equal([{ containerPath: '/var/log/', hostPath: '/logs/', mode: 'RW' }]);
    const k = ok(
      jobFromChronos(
        {
          name: 'k',
          command: 'x',
          parents: ['p'],
          epsilon: 'PT30M',
          concurrent: true,
          cpus: 0,
          uris: ['http://a/b.tgz'],
          constraints: [['rack', 'EQUALS', 'r1']],
          environmentVariables: [{ name: 'A', value: '1' }],
        },
        { now: NOW, defaults: { cpus: 0.25 } },
      ),
    );
    expect(k).to.deep.include({
      startingDeadlineSeconds: 1800,
      concurrencyPolicy: 'ALLOW',
      cpus: 0.25,
      schedule: null,
    });
    expect(k.fetch).to.deep.equal([
      { uri: 'http://a/b.tgz', executable: false, extract: true, cache: false, outputFile: '' },
    ]);
    expect(k.constraints).to.deep.equal([{ attribute: 'rack', operator: 'IS', value: 'r1' }]);
    expect(k.env).to.deep.equal({ A: { value: '1' } });
  });

  it("Metronome's defaults and schedule defaults", () => {
    const j = ok(jobFromMetronome({ id: 'a.b', run: { cmd: 'true' } }));
    expect(j).to.deep.include({
      cpus: 1,
      mem: 128,
      disk: 0,
      gpus: 0,
      maxLaunchDelaySeconds: 3600,
      restart: { policy: 'NEVER', activeDeadlineSeconds: null },
      retries: 0,
      schedule: null,
      concurrencyPolicy: 'ALLOW',
      shell: true,
      command: 'true',
    });
    const s = scheduleFromMetronome({ id: 'every', cron: '* * * * *' });
    expect(s.ok && s.value).to.deep.include({
      startingDeadlineSeconds: 900,
      concurrencyPolicy: 'ALLOW',
      disabled: false,
      missedRunPolicy: 'RUN_ONCE',
    });
    expect(s.ok && s.value.schedule).to.deep.equal({ kind: 'cron', cron: '* * * * *', timeZone: 'UTC' });
  });

  it('a Chronos job is visible through Metronome', () => {
    const j = ok(jobFromChronos(fixture('chronos-doc-sample-camus_kafka2hdfs.json'), { now: NOW }));
    const m = jobToMetronome(j) as { id: string; run: Record<string, unknown> };
    expect(m.id).to.equal('camus_kafka2hdfs');
    expect(m.run).to.deep.include({
      cpus: 1,
      mem: 1024,
      disk: 10240,
      args: ['/srv/data-infra/kafka/camus/kafka_hdfs_job.bash', '-verbose', '-debug'],
    });
    expect(m.run.env).to.deep.equal({ JVMOPTS: '-Xmx1000m', JAVA_LIBRARY_PATH: '/usr/local/lib' });
    expect(m.run.restart).to.deep.equal({ policy: 'ON_FAILURE' });
    expect(scheduleToMetronome(j)).to.deep.include({
      id: 'default',
      cron: 'R/2014-03-08T20:00:00.000Z/PT2H',
      startingDeadlineSeconds: 1800,
      concurrencyPolicy: 'FORBID',
      enabled: true,
    });
  });

  it('a Metronome job is visible through Chronos, secrets as references only', () => {
    const j = ok(jobFromMetronome(fixture('metronome-v1-job-secrets.json')));
    const c = jobToChronos(j);
    expect(c).to.deep.include({
      name: 'job-env-secret',
      shell: true,
      cpus: 0.01,
      mem: 32,
      retries: 0,
      concurrent: true,
    });
    expect(c.environmentVariables).to.deep.equal([]);
    expect(JSON.stringify(c)).to.not.include('/mysecret');
    const withSchedule = ok(jobFromMetronome(fixture('metronome-readme-sample-job-placement.json')));
    const cs = jobToChronos(withSchedule);
    expect(cs).to.deep.include({ schedule: '0 0 * * *', scheduleTimeZone: 'UTC' });
    expect(cs.constraints).to.deep.equal([['hostname', 'LIKE', '<host-name>']]);
  });

  it('round trips: Chronos → model → Chronos → model, and Metronome → model → Metronome → model', () => {
    const external = {
      name: 'ext',
      command: 'x',
      schedule: 'R/2026-01-01T00:00:00Z/PT1M',
      ...fixture('chronos-doc-mesos-container-external-volume-fragment.json'),
    };
    external.container.networkInfos[0].portMappings = [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }];
    const ext = ok(jobFromChronos(external, { now: NOW }));
    expect(ok(jobFromChronos(jobToChronos(ext), { now: NOW }))).to.deep.equal(ext);
    expect(ext.volumes[1].external).to.deep.equal({
      name: 'test',
      provider: 'local-persist',
      options: [{ key: 'mountpoint', value: '/tmp/test' }],
    });
    expect(ext.networks[0].portMappings).to.deep.equal([{ hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
    for (const f of [
      'chronos-doc-sample-camus_kafka2hdfs.json',
      'chronos-doc-docker-dockerjob.json',
      'chronos-itest-hourly-dependent-sleep1m.json',
    ]) {
      const j = ok(jobFromChronos(fixture(f), { now: NOW }));
      expect(ok(jobFromChronos(jobToChronos(j), { now: NOW })), f).to.deep.equal(j);
    }
    for (const f of [
      'metronome-v1-job.json',
      'metronome-v0-scheduled-job.json',
      'metronome-v1-job-secrets.json',
      'metronome-docs-job-gpu.json',
    ]) {
      const j = ok(jobFromMetronome(fixture(f)));
      const out = jobToMetronome(j);
      const sched = scheduleToMetronome(j);
      if (sched) out.schedules = [sched];
      expect(ok(jobFromMetronome(out)), f).to.deep.equal(j);
    }
  });

  it('crossing faces keeps what maps: Metronome → Chronos → model', () => {
    const m = ok(jobFromMetronome(fixture('metronome-readme-sample-job-placement.json')));
    const c = ok(jobFromChronos(jobToChronos(m), { now: NOW }));
    for (const k of [
      'name',
      'description',
      'command',
      'shell',
      'schedule',
      'cpus',
      'mem',
      'constraints',
      'concurrencyPolicy',
      'startingDeadlineSeconds',
      'restart',
    ] as const)
      expect(c[k], k).to.deep.equal(m[k]);
  });

  it('an update through the other face keeps what that face cannot express', () => {
    const m = ok(jobFromMetronome(fixture('metronome-v1-job-secrets.json')));
    const viaChronos = ok(jobFromChronos({ ...jobToChronos(m), description: 'changed' }, { now: NOW }));
    const merged = mergeUpdate(m, viaChronos, 'chronos');
    expect(merged.description).to.equal('changed');
    expect(merged.env).to.deep.equal(m.env);
    expect(merged.secrets).to.deep.equal(m.secrets);
    const c = ok(
      jobFromChronos(
        { name: 'c', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/PT1M', owner: 'o@x', retries: 5 },
        { now: NOW },
      ),
    );
    const viaMetronome = ok(jobFromMetronome({ id: 'c', run: { cmd: 'y', restart: { policy: 'ON_FAILURE' } } }));
    const merged2 = mergeUpdate(c, viaMetronome, 'metronome', { bodyHasSchedules: false });
    expect(merged2).to.deep.include({ command: 'y', owner: 'o@x', retries: 5, schedule: c.schedule });
  });

  describe('refusals say what is wrong', () => {
    const cases: [string, () => Checked<unknown>, string][] = [
      ['not an object', () => jobFromChronos([1], { now: NOW }), 'a job must be a JSON object'],
      [
        'a bad name',
        () => jobFromChronos({ name: 'a b', command: 'x', schedule: 'R//PT1S' }, { now: NOW }),
        '/name may contain only',
      ],
      [
        'schedule and parents',
        () => jobFromChronos({ name: 'a', command: 'x', schedule: 'R//PT1S', parents: ['b'] }, { now: NOW }),
        'not both',
      ],
      [
        'iso8601 route without schedule',
        () => jobFromChronos({ name: 'a', command: 'x', parents: ['b'] }, { now: NOW, route: 'iso8601' }),
        '/schedule is required',
      ],
      [
        'dependency route without parents',
        () => jobFromChronos({ name: 'a', command: 'x', schedule: 'R//PT1S' }, { now: NOW, route: 'dependency' }),
        '/parents',
      ],
      ['no command', () => jobFromChronos({ name: 'a', schedule: 'R//PT1S' }, { now: NOW }), '/command is required'],
      [
        'a bad zone',
        () =>
          jobFromChronos(
            { name: 'a', command: 'x', schedule: 'R//PT1S', scheduleTimeZone: 'Nowhere/Land' },
            { now: NOW },
          ),
        '/scheduleTimeZone unknown time zone',
      ],
      [
        'a schedule in neither syntax',
        () => jobFromChronos({ name: 'a', command: 'x', schedule: 'every day' }, { now: NOW }),
        '/schedule neither R[n]/<start>/<period> nor a cron',
      ],
      [
        'a bad period',
        () => jobFromChronos({ name: 'a', command: 'x', schedule: 'R//PT0S' }, { now: NOW }),
        '/schedule period',
      ],
      [
        'a bad epsilon',
        () => jobFromChronos({ name: 'a', command: 'x', schedule: 'R//PT1S', epsilon: '30m' }, { now: NOW }),
        '/epsilon',
      ],
      [
        'uris and fetch',
        () =>
          jobFromChronos(
            { name: 'a', command: 'x', schedule: 'R//PT1S', uris: ['u'], fetch: [{ uri: 'v' }] },
            { now: NOW },
          ),
        'not both',
      ],
      [
        'unknown constraint operator',
        () =>
          jobFromChronos(
            { name: 'a', command: 'x', schedule: 'R//PT1S', constraints: [['rack', 'CLUSTER', 'x']] },
            { now: NOW },
          ),
        "unknown operator 'CLUSTER'",
      ],
      [
        'negative cpus',
        () => jobFromChronos({ name: 'a', command: 'x', schedule: 'R//PT1S', cpus: '-1' }, { now: NOW }),
        '/cpus',
      ],
      ['self parent', () => jobFromChronos({ name: 'a', command: 'x', parents: ['a'] }, { now: NOW }), 'own parent'],
      [
        'too many arguments',
        () =>
          jobFromChronos(
            { name: 'a', command: 'x', schedule: 'R//PT1S', arguments: Array(5000).fill('a') },
            { now: NOW },
          ),
        '/arguments must not have more than',
      ],
      ['Metronome: a bad id', () => jobFromMetronome({ id: 'Bad_Id', run: { cmd: 'x' } }), '/id must be dot-separated'],
      ['Metronome: cmd and args', () => jobFromMetronome({ id: 'a', run: { cmd: 'x', args: ['y'] } }), 'not both'],
      [
        'Metronome: nothing to run',
        () => jobFromMetronome({ id: 'a', run: {} }),
        'a job needs cmd, or a docker or ucr image',
      ],
      [
        'Metronome: mem below 32',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x', mem: 16 } }),
        '/run/mem must be >= 32',
      ],
      [
        'Metronome: unknown field',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x', bogus: 1 } }),
        '/run/bogus is not a known field',
      ],
      [
        'Metronome: undefined secret',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x', env: { S: { secret: 'nope' } } } }),
        'secrets referenced but not defined: nope',
      ],
      [
        'Metronome: args without a container',
        () => jobFromMetronome({ id: 'a', run: { args: ['x'] } }),
        'args alone need a container',
      ],
      [
        'Metronome: unused secret',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x', secrets: { s: { source: '/p' } } } }),
        'defined but not referenced: s',
      ],
      [
        'Metronome: gpus with docker',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x', gpus: 1, docker: { image: 'i' } } }),
        'GPUs are not supported with Docker',
      ],
      [
        'Metronome: a file secret with docker',
        () =>
          jobFromMetronome({
            id: 'a',
            run: {
              docker: { image: 'i' },
              volumes: [{ containerPath: '/s', secret: 's' }],
              secrets: { s: { source: '/p' } },
            },
          }),
        'only supported by ucr',
      ],
      [
        'Metronome: a volume both host and secret',
        () =>
          jobFromMetronome({
            id: 'a',
            run: {
              ucr: { image: { id: 'i' } },
              volumes: [{ containerPath: '/s', hostPath: '/h', secret: 's' }],
              secrets: { s: { source: '/p' } },
            },
          }),
        'either {containerPath, hostPath, mode} or {containerPath, secret}',
      ],
      [
        'Metronome: a container network without a container',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x', networks: [{ mode: 'container', name: 'n' }] } }),
        'only containers may join',
      ],
      [
        'Metronome: a container network without a name',
        () => jobFromMetronome({ id: 'a', run: { ucr: { image: { id: 'i' } }, networks: [{ mode: 'container' }] } }),
        'needs a name',
      ],
      [
        'Metronome: mixed network modes',
        () =>
          jobFromMetronome({
            id: 'a',
            run: { ucr: { image: { id: 'i' } }, networks: [{ mode: 'host' }, { mode: 'container', name: 'n' }] },
          }),
        'do not mix',
      ],
      [
        'Metronome: too many labels',
        () =>
          jobFromMetronome({
            id: 'a',
            labels: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 'v'])),
            run: { cmd: 'x' },
          }),
        '/labels must not have more than 1000 properties',
      ],
      [
        'Metronome: two schedules',
        () =>
          jobFromMetronome({
            id: 'a',
            run: { cmd: 'x' },
            schedules: [
              { id: 'a', cron: '* * * * *' },
              { id: 'b', cron: '* * * * *' },
            ],
          }),
        'has size 2, expected 1 or less',
      ],
      [
        'Metronome: seven-field cron',
        () => jobFromMetronome({ id: 'a', run: { cmd: 'x' }, schedules: [{ id: 's', cron: '0 * * * * * *' }] }),
        '/schedules/0/cron',
      ],
      [
        'Metronome: bad schedule zone',
        () => scheduleFromMetronome({ id: 's', cron: '* * * * *', timezone: 'Mars/Base' }),
        '/timezone unknown time zone',
      ],
      [
        'Metronome: bad concurrency policy',
        () => scheduleFromMetronome({ id: 's', cron: '* * * * *', concurrencyPolicy: 'SOMETIMES' }),
        '/concurrencyPolicy',
      ],
    ];
    for (const [name, run, want] of cases)
      it(name, () => {
        expect(refused(run())).to.include(want);
      });
  });

  it('property: any JSON value is accepted or refused with at most 20 one-line reasons, never a throw', () => {
    const arb = fc.oneof(
      fc.anything(),
      fc.record(
        { name: fc.string(), command: fc.string(), schedule: fc.string(), parents: fc.anything(), cpus: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.record({ id: fc.string(), run: fc.anything(), schedules: fc.anything() }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(arb, (v) => {
        for (const r of [jobFromChronos(v, { now: NOW }), jobFromMetronome(v), scheduleFromMetronome(v)]) {
          if (r.ok) continue;
          expect(r.problems.length).to.be.within(1, 20);
          for (const p of r.problems) expect(p.message).to.not.include('\n');
        }
      }),
      { numRuns: 500 },
    );
  });
});
