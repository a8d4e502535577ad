/**
 * The end of the launch benchmark's measured window, the same for every side: each task's command
 * first writes its id into a FIFO (`echo ID > FIFO; exec sleep 600`), which the marker reader, a
 * tiny process of its own (launch-marker-reader.ts), stamps with CLOCK_MONOTONIC as it arrives. A
 * round ends when every task's marker has come; the start is stamped on the same clock
 * (`process.hrtime.bigint()` is CLOCK_MONOTONIC in every process on the host).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { live } from './launch-cleanup.js';

/** CLOCK_MONOTONIC in ms (the markers' clock). */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Where docker tasks see the marker directory (a bind mount of `MarkerMeter.dir`). */
export const CONTAINER_MARKER_DIR = '/agora-bench-marker';

export interface MarkerStats {
  /** Tasks whose marker came at least once. */
  seen: number;
  /** Tasks whose marker came more than once. */
  doubled: string[];
  /** Markers from ids not asked for in this round. */
  strangers: number;
}

export class MarkerMeter {
  readonly dir: string;
  readonly fifo: string;
  private readonly reader: ChildProcess;
  /** Stamps (CLOCK_MONOTONIC ms) per id, every arrival. */
  private readonly stamps = new Map<string, number[]>();
  private waiting?: { ids: Set<string>; left: number; resolve: (lastMs: number) => void };
  private buffered = '';
  readonly ready: Promise<void>;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'agora-bench-marker-'));
    chmodSync(this.dir, 0o777);
    live.dirs.push(this.dir);
    this.fifo = join(this.dir, 'markers.fifo');
    execFileSync('mkfifo', ['-m', '0666', this.fifo]);
    const script = new URL('./launch-marker-reader.js', import.meta.url).pathname;
    this.reader = spawn(process.execPath, [script, this.fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    live.helpers.add(this.reader);
    let readyResolve: () => void = () => undefined;
    this.ready = new Promise<void>((r) => {
      readyResolve = r;
    });
    this.reader.stdout?.setEncoding('utf8');
    this.reader.stdout?.on('data', (d: string) => {
      this.buffered += d;
      const lines = this.buffered.split('\n');
      this.buffered = lines.pop() ?? '';
      for (const l of lines) {
        if (l === 'ready') {
          readyResolve();
          continue;
        }
        const sp = l.lastIndexOf(' ');
        if (sp > 0) this.onMarker(l.slice(0, sp), Number(BigInt(l.slice(sp + 1))) / 1e6);
      }
    });
  }

  /** The task's command: marker first, then the work (`exec`: no extra shell stays around). */
  command(id: string, work: string, inContainer = false): string {
    const fifo = inContainer ? `${CONTAINER_MARKER_DIR}/markers.fifo` : this.fifo;
    return `echo ${id} > ${fifo}; exec ${work}`;
  }

  private onMarker(id: string, at: number): void {
    const list = this.stamps.get(id);
    if (list) list.push(at);
    else this.stamps.set(id, [at]);
    const w = this.waiting;
    if (w?.ids.has(id) && !list) {
      if (--w.left === 0) {
        this.waiting = undefined;
        w.resolve(at);
      }
    }
  }

  /** Resolves with the stamp (CLOCK_MONOTONIC ms) of the last of `ids` to write its marker. */
  expect(ids: string[]): Promise<number> {
    const set = new Set(ids);
    let left = 0;
    for (const id of set) if (!this.stamps.has(id)) left++;
    return new Promise<number>((resolve) => {
      if (left === 0) resolve(Math.max(...ids.map((id) => this.first(id) ?? 0)));
      else this.waiting = { ids: set, left, resolve };
    });
  }

  first(id: string): number | undefined {
    return this.stamps.get(id)?.[0];
  }

  /** Seen / doubled among `ids`, and markers of ids outside every round so far (`known`). */
  stats(ids: string[], known?: (id: string) => boolean): MarkerStats {
    let seen = 0;
    const doubled: string[] = [];
    for (const id of ids) {
      const n = this.stamps.get(id)?.length ?? 0;
      if (n > 0) seen++;
      if (n > 1) doubled.push(id);
    }
    let strangers = 0;
    if (known) for (const id of this.stamps.keys()) if (!known(id)) strangers++;
    return { seen, doubled, strangers };
  }

  stop(): void {
    this.reader.kill('SIGKILL');
    live.helpers.delete(this.reader);
  }
}
