/** One line naming the first wrong field of a value checked against a compiled TypeBox schema. */
import type { Validator } from 'typebox/compile';

export function firstProblem(validator: Validator, value: unknown, base: string): string {
  let best: { path: string; what: string; depth: number } | undefined;
  for (const e of validator.Errors(value)) {
    if (e.keyword === 'anyOf' || e.keyword === 'boolean') continue;
    const segments = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/');
    let what = e.message;
    if (e.keyword === 'required') {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties?.[0];
      if (missing !== undefined) {
        segments.push(missing);
        what = 'is required';
      }
    }
    if (!best || segments.length > best.depth) {
      const path = segments.reduce(
        (p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : `${p}.${s.replace(/~1/g, '/').replace(/~0/g, '~').slice(0, 64)}`),
        base,
      );
      best = { path, what, depth: segments.length };
    }
  }
  return best ? `${best.path}: ${best.what}`.slice(0, 1024) : `${base}: invalid`;
}
