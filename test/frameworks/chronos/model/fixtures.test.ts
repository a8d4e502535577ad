/**
 * Every file in test/fixtures/chronos/ (copied from the real Chronos and Metronome repositories, see
 * SOURCES.json) is either accepted as a job or refused with a clear reason. The expected outcome of
 * each file is listed here, so a fixture added without a verdict fails the test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Classified, classifyDocument, describeProblems } from '../../../../frameworks/chronos/model/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
const DIR = path.join(REPO, 'test/fixtures/chronos');
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

/** Expected verdict per file: 'chronos' / 'metronome' (accepted job), 'schedule', or a refusal's words. */
const EXPECTED: Record<string, string | string[]> = {
  'chronos-doc-dependent-hostings_earnings_summary.json': 'chronos',
  'chronos-doc-docker-dockerjob.json': 'chronos',
  'chronos-doc-mesos-container-external-volume-fragment.json': 'refused:/name is required',
  'chronos-doc-sample-camus_kafka2hdfs.json': 'chronos',
  'chronos-doc-scheduleTimeZone-fragment.json': 'refused:/name is required',
  'chronos-doc-scheduled-SAMPLE_JOB1.json': 'chronos',
  'chronos-itest-daily-sleep1m.json': 'chronos',
  'chronos-itest-hourly-dependent-sleep1m.json': 'chronos',
  'chronos-itest-hourly-sleep1m.json': 'chronos',
  'chronos-itest-weekly-sleep1m.json': 'chronos',
  'k8s-cronjob-hello.json': 'not-a-job:Kubernetes CronJob',
  'metronome-docs-docker-priv.json': 'metronome',
  'metronome-docs-job-gpu.json': 'metronome',
  'metronome-docs-ucr-docker.json': 'metronome',
  'metronome-readme-sample-job-placement.json': 'metronome',
  'metronome-v0-scheduled-job.json': 'metronome',
  'metronome-v1-job-docker-param.json': 'metronome',
  // The second entry's id, "cleanDb --force", breaks Metronome's id rule (its own example is invalid).
  'metronome-v1-job-list.json': ['metronome', 'refused:/id must be dot-separated names'],
  'metronome-v1-job-secrets.json': 'metronome',
  'metronome-v1-job-ucr.json': 'metronome',
  'metronome-v1-job.json': 'metronome',
  'metronome-v1-jobspec.schema.json': 'not-a-job:a JSON Schema',
  'metronome-v1-run.json': 'not-a-job:a Metronome job run',
  'metronome-v1-schedule.json': 'schedule',
  'metronome-v1-schedulespec.schema.json': 'not-a-job:a JSON Schema',
};

function verdict(c: Classified): string | string[] {
  switch (c.kind) {
    case 'list':
      return c.items.map((i) => verdict(i) as string);
    case 'not-a-job':
      return 'not-a-job:' + c.reason;
    case 'metronome-schedule':
      return c.result.ok ? 'schedule' : 'refused:' + describeProblems(c.result.problems);
    default:
      return c.result.ok ? c.kind.replace('-job', '') : 'refused:' + describeProblems(c.result.problems);
  }
}

function matches(got: string, want: string): boolean {
  return want.includes(':')
    ? got.startsWith(want.split(':')[0] + ':') && got.includes(want.slice(want.indexOf(':') + 1))
    : got === want;
}

describe('chronos model: the Chronos and Metronome fixtures', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'SOURCES.json');

  it('has a verdict for every fixture file, and every listed file exists', () => {
    expect(files.sort()).to.deep.equal(Object.keys(EXPECTED).sort());
    const sources = JSON.parse(readFileSync(path.join(DIR, 'SOURCES.json'), 'utf8')) as {
      files: Record<string, string>;
    };
    for (const f of files) expect(sources.files, f).to.have.property(f);
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(`${file}: ${Array.isArray(want) ? want.join(', ') : want}`, () => {
      const got = verdict(classifyDocument(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')), NOW));
      const wants = Array.isArray(want) ? want : [want];
      const gots = Array.isArray(got) ? got : [got];
      expect(gots.length, JSON.stringify(gots)).to.equal(wants.length);
      wants.forEach((w, i) => {
        expect(matches(gots[i], w), `${gots[i]} should match ${w}`).to.equal(true);
      });
      // A refusal is a short sentence, never a stack.
      for (const g of gots) expect(g).to.not.match(/\n|\bat .*\.js:\d+/);
    });
  }
});
