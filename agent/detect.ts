/**
 * What an agent offers when `--resources` does not say: the machine's cpus, memory less a share
 * kept for the system, the work dir's disk less a margin, and ports 31000-32000 (Mesos defaults).
 * Any entry given in `--resources` replaces the detected one of the same name.
 */
import { statfsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { type Resource, Resources } from '../sdk/resources/resources.js';

const MB = 1024 * 1024;

export function detectResources(workDir: string, flag?: string): Resources {
  const given = flag ? Resources.parse(flag) : Resources.empty();
  const givenNames = new Set(given.toList().map((r) => r.name));
  const memMb = Math.floor(totalmem() / MB);
  // Mesos leaves 1 GB (or half, on small machines) for the system.
  const mem = memMb > 2048 ? memMb - 1024 : Math.floor(memMb / 2);
  let diskMb = 10_240;
  try {
    const s = statfsSync(workDir);
    const total = Math.floor((s.blocks * s.bsize) / MB);
    diskMb = total > 10_240 ? total - 5_120 : Math.floor(total / 2);
  } catch {
    // keep the fallback
  }
  const detected: Resource[] = [
    { name: 'cpus', type: 'SCALAR', scalar: { value: cpus().length } },
    { name: 'mem', type: 'SCALAR', scalar: { value: mem } },
    { name: 'disk', type: 'SCALAR', scalar: { value: diskMb } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] } },
  ];
  return given.plus(detected.filter((r) => !givenNames.has(r.name)));
}

/** `rack:r1;zone:a` → `{rack: 'r1', zone: 'a'}`. */
export function parseAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(';')) {
    const p = part.trim();
    if (!p) continue;
    const i = p.indexOf(':');
    if (i <= 0) throw new Error(`attribute '${p}' is not of the form name:value (e.g. rack:r1)`);
    out[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  return out;
}
