/**
 * Which loopback port a test or benchmark hands to a daemon it starts later. Binding port 0 would
 * return a port from the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), and
 * between that check and the daemon's own listen, any process's outgoing connection may be given
 * the same port as its local end: the daemon then fails with EADDRINUSE. Ports outside that range
 * are never given to outgoing connections, so only another listener can take them, and this
 * process never hands the same one out twice.
 *
 * The choice is a pure function of the ephemeral range, the ports already handed out and a random
 * source (`choosePortRun`); `readEphemeralRange` reads the range the kernel uses.
 */
import { readFileSync } from 'node:fs';

export interface PortRange {
  low: number;
  high: number;
}

/** Linux's default ephemeral range, used when /proc cannot be read (another OS, a sandbox). */
export const DEFAULT_EPHEMERAL: PortRange = { low: 32768, high: 60999 };
/** Nothing below this: well-known and commonly configured service ports. */
export const LOWEST_PORT = 10_000;
/** Agents offer these to tasks by default (agent/detect.ts, cli/local-ports.ts): a task may bind one. */
export const TASK_PORTS: PortRange = { low: 31000, high: 32000 };
/**
 * The ports the Fetch standard blocks (its "bad port" list) from 1024 up: Node's fetch() refuses
 * them with a bare "fetch failed", so a daemon given one cannot be reached by the tests' HTTP
 * clients. CI lost a run to an agent put on 10080.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The kernel's ephemeral range, parsed from `text` (the contents of ip_local_port_range). */
export function parseEphemeralRange(text: string): PortRange | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  const low = Number(m[1]);
  const high = Number(m[2]);
  if (!(low >= 1 && high <= 65535 && low <= high)) return undefined;
  return { low, high };
}

export function readEphemeralRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange {
  try {
    return parseEphemeralRange(readFileSync(path, 'utf8')) ?? DEFAULT_EPHEMERAL;
  } catch {
    return DEFAULT_EPHEMERAL;
  }
}

/** [LOWEST_PORT, 65535] less the ephemeral range and the task ports, as sorted disjoint ranges. */
export function usableRanges(ephemeral: PortRange): PortRange[] {
  let out: PortRange[] = [{ low: LOWEST_PORT, high: 65535 }];
  for (const cut of [ephemeral, TASK_PORTS]) {
    const next: PortRange[] = [];
    for (const r of out) {
      if (cut.high < r.low || cut.low > r.high) {
        next.push(r);
        continue;
      }
      if (r.low < cut.low) next.push({ low: r.low, high: cut.low - 1 });
      if (r.high > cut.high) next.push({ low: cut.high + 1, high: r.high });
    }
    out = next;
  }
  return out.sort((a, b) => a.low - b.low);
}

/**
 * The first port of a run of `n` consecutive ports outside `ephemeral` (and the task ports, and
 * below LOWEST_PORT), none of them in `handedOut` nor blocked by fetch; drawn with `random` (in [0, 1)) among the bases
 * that fit below the ephemeral range when any does, else above it. Undefined when no run fits.
 */
export function choosePortRun(
  ephemeral: PortRange,
  n: number,
  handedOut: ReadonlySet<number>,
  random: () => number,
): number | undefined {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`a run of ${n} ports`);
  const ranges = usableRanges(ephemeral);
  const below = ranges.filter((r) => r.high < ephemeral.low);
  const above = ranges.filter((r) => r.low > ephemeral.high);
  for (const side of [below, above]) {
    // The bases whose whole run fits in one range, counted so that one draw picks among them all.
    const spans = side.map((r) => ({ first: r.low, count: Math.max(0, r.high - r.low + 2 - n) }));
    const total = spans.reduce((s, x) => s + x.count, 0);
    if (total === 0) continue;
    // From a random start, the first base whose run is clear: a crowded side still answers.
    const start = Math.floor(random() * total);
    for (let k = 0; k < total; k++) {
      let i = (start + k) % total;
      let base = -1;
      for (const s of spans) {
        if (i < s.count) {
          base = s.first + i;
          break;
        }
        i -= s.count;
      }
      let clear = true;
      for (let p = base; p < base + n; p++) {
        if (handedOut.has(p) || FETCH_BLOCKED_PORTS.has(p)) {
          clear = false;
          break;
        }
      }
      if (clear) return base;
    }
  }
  return undefined;
}
