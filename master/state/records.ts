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
  if (depth > MAX_RECORD_DEPTH) return `${path}: nested too deeply`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path}: ${value} is not a finite number`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) return `${path}[${i}]: undefined in an array`;
      const why = unreadableReason(value[i], `${path}[${i}]`, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const why = unreadableReason(v, `${path}.${k}`, depth + 1);
      if (why) return why;
    }
    return undefined;
  }
  return `${path}: a ${typeof value} is not plain data`;
}
