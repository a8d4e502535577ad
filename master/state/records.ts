/**
 * What can be made durable: a value reads back equal from JSON only if it is plain data with
 * finite numbers. Pure, shared by the registrar (before every write) and the state (before
 * admitting resources it would have to persist).
 */
const MAX_RECORD_DEPTH = 16;

/**
 * Why `value` would not read back equal from JSON (a non-finite number, a non-plain object, too
 * deep), or undefined when it would. Keys whose value is undefined are left out, as JSON does.
 */
export function unreadableReason(value: unknown, path = '$', depth = 0): string | undefined {
  const problem = walk(value, depth);
  return problem && `${path}${problem.path.reverse().join('')}: ${problem.what}`;
}

interface Problem {
  what: string;
  /** Path segments, innermost first. */
  path: string[];
}

/**
 * The walk behind `unreadableReason`. The path is built only for a value that fails (a new leader
 * checks every record it recovers and every agent it takes back: building the path of every
 * field of 5,000 records, and an array of entries per object, was most of the check's cost).
 */
function walk(value: unknown, depth: number): Problem | undefined {
  if (depth > MAX_RECORD_DEPTH) return { what: 'nested too deeply', path: [] };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : { what: `${value} is not a finite number`, path: [] };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) return { what: 'undefined in an array', path: [`[${i}]`] };
      const p = walk(value[i], depth + 1);
      if (p) {
        p.path.push(`[${i}]`);
        return p;
      }
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const o = value as Record<string, unknown>;
    for (const k in o) {
      if (!Object.hasOwn(o, k)) continue;
      const v = o[k];
      if (v === undefined) continue;
      const p = walk(v, depth + 1);
      if (p) {
        p.path.push(`.${k}`);
        return p;
      }
    }
    return undefined;
  }
  return { what: `a ${typeof value} is not plain data`, path: [] };
}
