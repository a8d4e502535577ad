/**
 * Which methods a path answers to, for 405 with `Allow`: the server records every route as it is
 * declared and matches the request's path against the patterns when no route took it.
 */

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A fastify route pattern (`/a/:b/*`) as a regular expression over the raw path. */
export function patternRegExp(url: string): RegExp {
  const body = url
    .split('/')
    .map((seg) => {
      if (seg === '*') return '.*';
      if (seg.startsWith(':')) return '[^/]+';
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${body}$`);
}

export class RouteTable {
  private readonly routes = new Map<string, { re: RegExp; methods: Set<string> }>();

  add(url: string, methods: string | string[]): void {
    let r = this.routes.get(url);
    if (!r) {
      r = { re: patternRegExp(url), methods: new Set() };
      this.routes.set(url, r);
    }
    for (const m of Array.isArray(methods) ? methods : [methods]) r.methods.add(m.toUpperCase());
  }

  /** The methods some route accepts for this path (query excluded), sorted; empty when none. */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes.values()) if (r.re.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  }
}

function order(m: string): number {
  const i = METHOD_ORDER.indexOf(m);
  return i < 0 ? METHOD_ORDER.length : i;
}
