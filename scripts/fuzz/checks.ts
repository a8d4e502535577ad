/**
 * Oracles over one input and what came back: each returns the problems it sees, with a signature
 * that groups the same defect however it was reached (so 100,000 inputs give a short list).
 */
import type { HttpInput } from './http-gen.js';
import type { HttpAnswer, WsOutcome } from './send.js';
import { MAX_SANE_QUANTITY, text, validId, validRoleName } from './values.js';
import type { WsInput } from './ws-gen.js';

export type ProblemKind =
  | 'crash'
  | 'no-code'
  | 'server-error'
  | 'no-answer'
  | 'state-change'
  | 'invariant'
  | 'expectation'
  | 'slow';

/** Gravest first: the order of the report and of shrinking. */
export const KIND_ORDER: ProblemKind[] = [
  'crash',
  'state-change',
  'invariant',
  'server-error',
  'expectation',
  'no-code',
  'no-answer',
  'slow',
];

export interface Problem {
  kind: ProblemKind;
  signature: string;
  observed: string;
}

function shape(text: string): string {
  return text
    .replace(/"[^"]{40,}"/g, '"…"')
    .replace(/\/tmp\/[^\s"']+/g, '<path>')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/g, '<uuid>')
    .replace(/\d+/g, 'N')
    .slice(0, 80);
}

const ROUTE_METHODS = new Map<string, Set<string>>();
export function learnRoutes(routes: { surface: string; method: string; path: string }[]): void {
  for (const r of routes) {
    const k = `${r.surface}${r.path}`;
    if (!ROUTE_METHODS.has(k)) ROUTE_METHODS.set(k, new Set());
    ROUTE_METHODS.get(k)!.add(r.method);
  }
}

/** Every refusal, 4xx or 5xx, carries `{code, message}`; no 5xx at all; some answer at all. */
export function checkHttp(input: HttpInput, a: HttpAnswer): Problem[] {
  const out: Problem[] = [];
  const where = `${input.method} ${input.surface} (${input.route}, ${input.label})`;
  if (a.status === 0) {
    out.push({
      kind: 'no-answer',
      signature: `no HTTP answer: ${where}: ${shape(a.error ?? '')}`,
      observed: a.error ?? '',
    });
    return out;
  }
  let body: { code?: unknown; message?: unknown } | undefined;
  try {
    body = JSON.parse(a.body);
  } catch {
    body = undefined;
  }
  const code = typeof body?.code === 'string' ? body.code : undefined;
  if (a.status >= 500) {
    out.push({
      kind: 'server-error',
      signature: `${a.status} ${code ?? '(no code)'} ${shape(text(body?.message ?? a.body))}: ${input.surface} ${input.route}`,
      observed: `${a.status} ${a.body.slice(0, 300)}`,
    });
  }
  // Marathon's routes answer in Marathon's shape: a stable `message` (and `details`) is the contract there.
  const coded =
    // Chronos's too (400 with a message); Agora adds a `code` beside it, not required there.
    input.surface === 'marathon' || input.surface === 'chronos'
      ? typeof body?.message === 'string'
      : !!code && typeof body?.message === 'string';
  if (a.status >= 400 && input.method !== 'HEAD' && !coded) {
    const msg = text(body?.message ?? '');
    const cause = /^Route .* not found$/.test(msg)
      ? 'unknown route or method'
      : a.status === 431
        ? 'headers too large'
        : msg === 'Client Error'
          ? 'request the HTTP parser refused'
          : a.body === ''
            ? 'empty body (answered before any route)'
            : input.route;
    out.push({
      kind: 'no-code',
      signature: `${a.status} without {code, message}: ${input.surface}, ${cause}`,
      observed: `${input.method} ${input.target.slice(0, 100)} -> ${a.status} ${a.body.slice(0, 300) || '(empty body)'}`,
    });
  }
  // Wrong method on a route that exists answers 405 (the contract).
  const exact = input.target.split('?')[0];
  const methods = ROUTE_METHODS.get(`${input.surface}${exact}`);
  if (
    input.label === 'http-method' &&
    methods &&
    !methods.has(input.method) &&
    !(input.method === 'HEAD' && methods.has('GET')) &&
    a.status !== 405
  ) {
    out.push({
      kind: 'expectation',
      signature: `wrong method answers ${a.status}, not 405: ${input.surface}`,
      observed: `${input.method} ${exact} -> ${a.status} ${a.body.slice(0, 200)}`,
    });
  }
  // JSONP: a 200 echoes only a plain (dotted) identifier as the callback, never caller-chosen script.
  const jsonp = jsonpOf(input.target);
  if (jsonp !== undefined && a.status === 200 && input.method === 'GET') {
    const m = /^([^(]*)\(/.exec(a.body);
    const echoed = m?.[1];
    if (echoed !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/.test(echoed))
      out.push({
        kind: 'expectation',
        signature: `JSONP echoes a callback that is not a plain name: ${input.surface}`,
        observed: `${input.target.slice(0, 120)} -> ${a.body.slice(0, 120)}`,
      });
    // Master and agent refuse a bad name (400); Marathon has no JSONP and ignores the parameter.
    if (
      (input.surface === 'master' || input.surface === 'agent') &&
      jsonp.length === 1 &&
      !/^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$/.test(jsonp[0])
    )
      out.push({
        kind: 'expectation',
        signature: `a bad JSONP callback name is accepted (200): ${input.surface}`,
        observed: `${JSON.stringify(jsonp[0]).slice(0, 80)} -> ${a.body.slice(0, 80)}`,
      });
  }
  // Quantities beyond any machine are refused at the edge.
  if (a.status < 300 && input.route === 'POST master/quota' && input.body && hugeQuantity(input)) {
    out.push({
      kind: 'expectation',
      signature: 'POST /quota accepts an out-of-range quantity',
      observed: `${a.status} ${a.body.slice(0, 200)}`,
    });
  }
  return out;
}

/** The `jsonp` values of a request target, as the server decodes them (undefined when none or undecodable). */
export function jsonpOf(target: string): string[] | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  try {
    const all = new URLSearchParams(target.slice(q + 1)).getAll('jsonp');
    return all.length > 0 ? all : undefined;
  } catch {
    return undefined;
  }
}

function hugeQuantity(input: HttpInput): boolean {
  const b = input.body!;
  if (b.t === 'text') return /1e999|1E\+400|1e30[68]/i.test(b.text);
  if (b.t !== 'json') return false;
  let found = false;
  JSON.stringify(b.value, (_k, v) => {
    if (typeof v === 'number' && (Math.abs(v) > MAX_SANE_QUANTITY || !Number.isFinite(v))) found = true;
    return v;
  });
  return found;
}

/** What the runner remembers across sessions for the WebSocket oracles. */
export interface WsMemory {
  /** Agent ids the master issued (REGISTERED answers) plus the real agent's. */
  issuedAgentIds: Set<string>;
  /** Framework ids a caller chose and the master accepted. */
  chosenFrameworkIds: Set<string>;
  realAgentId: string;
}

function numbersIn(v: unknown, found: number[] = []): number[] {
  if (typeof v === 'number') found.push(v);
  else if (Array.isArray(v)) for (const x of v) numbersIn(x, found);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) numbersIn(x, found);
  return found;
}

// biome-ignore lint/suspicious/noExplicitAny: sent frames are generated JSON-like values
type Msg = any;

export function checkWs(input: WsInput, o: WsOutcome, mem: WsMemory): Problem[] {
  const out: Problem[] = [];
  const ep = input.endpoint;
  if (!o.opened) {
    out.push({
      kind: 'no-answer',
      signature: `WebSocket upgrade refused: ${ep}: ${shape(o.error ?? '')}`,
      observed: o.error ?? '',
    });
    return out;
  }
  for (const e of o.events) {
    if (e.type === 'ERROR') {
      const err = e.value.error as { code?: unknown; message?: unknown } | undefined;
      if (typeof err?.code !== 'string' || typeof err?.message !== 'string')
        out.push({
          kind: 'no-code',
          signature: `ERROR event without {code, message}: ${ep}`,
          observed: JSON.stringify(e.value).slice(0, 300),
        });
    }
  }
  if (o.close?.byServer && o.close.code === 1011)
    out.push({
      kind: 'server-error',
      signature: `connection closed 1011: ${ep}: ${shape(o.close.reason)}`,
      observed: o.close.reason,
    });
  if (o.closeAfterMs !== undefined && o.closeAfterMs > 1000)
    out.push({
      kind: 'slow',
      signature: `a frame took over 1 s to refuse: ${ep}`,
      observed: `closed ${o.close?.code} after ${Math.round(o.closeAfterMs)} ms: ${o.close?.reason}`,
    });
  const sent = o.sent as Msg[];
  const types = sent.map((m) => (m && typeof m === 'object' ? m.type : undefined));
  if (ep === 'scheduler') {
    if (o.subscribed.length >= 2)
      out.push({
        kind: 'expectation',
        signature: 'a second SUBSCRIBE on one connection is accepted',
        observed: `SUBSCRIBED ${o.subscribed.length} times on one connection: ${JSON.stringify(o.subscribed).slice(0, 200)}`,
      });
    const subs = sent.filter((m) => m?.type === 'SUBSCRIBE');
    if (subs.length === 1 && o.subscribed.length === 1) {
      const fi = subs[0].subscribe?.framework_info ?? {};
      const got = o.subscribed[0];
      if (fi.id !== undefined && fi.id !== null && fi.id === got) {
        if (!validId(fi.id))
          out.push({
            kind: 'expectation',
            signature: 'SUBSCRIBE accepts a framework id that breaks the id rule',
            observed: `SUBSCRIBED as ${JSON.stringify(got).slice(0, 100)}`,
          });
        mem.chosenFrameworkIds.add(got);
      } else if ((fi.id === undefined || fi.id === null) && mem.chosenFrameworkIds.has(got)) {
        out.push({
          kind: 'expectation',
          signature: 'the master issues a framework id that a caller already holds',
          observed: `SUBSCRIBE without id got ${got}, which a caller chose before`,
        });
      }
      const bad = (Array.isArray(fi.roles) ? fi.roles : []).filter((r: unknown) => !validRoleName(r));
      if (bad.length > 0)
        out.push({
          kind: 'expectation',
          signature: 'SUBSCRIBE accepts a role name that breaks the role rule',
          observed: `roles ${JSON.stringify(bad).slice(0, 120)} accepted`,
        });
    }
    if (
      o.close?.byServer &&
      o.close.code === 1008 &&
      types.includes('ACCEPT') &&
      /accept\.(operations|offer_ids|filters)/.test(o.close.reason)
    )
      out.push({
        kind: 'expectation',
        signature: 'one invalid field in an ACCEPT closes the connection (1008) instead of TASK_ERROR',
        observed: o.close.reason,
      });
  } else {
    if (o.registered.length >= 2)
      out.push({
        kind: 'expectation',
        signature: 'one connection holds several agents',
        observed: `(RE)REGISTERED ${o.registered.length} times: ${JSON.stringify(o.registered).slice(0, 200)}`,
      });
    for (const m of sent) {
      if (m?.type !== 'REGISTER' && m?.type !== 'REREGISTER') continue;
      const answered =
        m.type === 'REGISTER' ? o.events.some((e) => e.type === 'REGISTERED') : o.registered.includes(m.agent?.id);
      if (!answered) continue;
      const nums = numbersIn(m.agent?.resources);
      if (nums.some((n) => !Number.isFinite(n) || Math.abs(n) > MAX_SANE_QUANTITY))
        out.push({
          kind: 'expectation',
          signature: `${m.type} admits an out-of-range resource quantity`,
          observed: `resources ${JSON.stringify(m.agent.resources).slice(0, 200)} admitted`,
        });
      if (m.type === 'REREGISTER') {
        const id = m.agent.id;
        if (id === mem.realAgentId)
          out.push({
            kind: 'expectation',
            signature: "REREGISTER takes over a live agent's id",
            observed: `REREGISTERED as ${text(id)}`,
          });
        else if (!mem.issuedAgentIds.has(id))
          out.push({
            kind: 'expectation',
            signature: 'REREGISTER admits an agent id the master never issued',
            observed: `REREGISTERED as ${JSON.stringify(id).slice(0, 100)}`,
          });
        if (!validId(id))
          out.push({
            kind: 'expectation',
            signature: 'REREGISTER admits an agent id that breaks the id rule',
            observed: `REREGISTERED as ${JSON.stringify(id).slice(0, 100)}`,
          });
      }
    }
    for (const e of o.events) if (e.type === 'REGISTERED') mem.issuedAgentIds.add(text(e.value.agent_id));
  }
  return out;
}

/** Did this session get the master to accept something (so state may legitimately change)? */
export function wsAccepted(o: WsOutcome): boolean {
  return o.subscribed.length > 0 || o.registered.length > 0;
}
