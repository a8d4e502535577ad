/**
 * Marathon's error answers for definitions, as values:
 *
 * - a body that does not read as the type (wrong JSON type, a bound of the RAML type broken) →
 *   422 `{"message":"Invalid JSON","details":[{"path":"/cpus","errors":["error.expected.jsnumber"]}]}`
 *   (Play JSON's messages, which Marathon passes through);
 * - a body that reads but breaks a rule → 422 `{"message":"Object is not valid","details":[...]}`;
 * - a body that is not JSON at all → 400 `{"message":"Invalid JSON"}` (the service's parser says so).
 *
 * Paths are JSON-pointer-like with Marathon's array form: `/healthChecks(0)/portIndex`.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

export interface Violation {
  path: string;
  errors: string[];
}
/** Marathon's error body. */
export interface ErrorBody {
  message: string;
  details?: Violation[];
}
export interface Rejection {
  ok: false;
  status: 400 | 422;
  body: ErrorBody;
}
export type Normalized<T> = { ok: true; value: T } | Rejection;

export const OBJECT_NOT_VALID = 'Object is not valid';
export const INVALID_JSON = 'Invalid JSON';

/** Collects violations grouped by path, in first-seen order (errors de-duplicated). */
export class Violations {
  private readonly byPath = new Map<string, string[]>();

  add(path: string, error: string): void {
    const p = path === '' ? '/' : path;
    const list = this.byPath.get(p);
    if (!list) this.byPath.set(p, [error]);
    else if (!list.includes(error)) list.push(error);
  }

  addAll(vs: readonly Violation[]): void {
    for (const v of vs) for (const e of v.errors) this.add(v.path, e);
  }

  get empty(): boolean {
    return this.byPath.size === 0;
  }

  list(): Violation[] {
    return [...this.byPath].map(([path, errors]) => ({ path, errors }));
  }

  reject(message = OBJECT_NOT_VALID): Rejection {
    return { ok: false, status: 422, body: { message, details: this.list() } };
  }
}

/** A 422 with one violation. */
export function rejectOne(path: string, error: string, message = OBJECT_NOT_VALID): Rejection {
  const v = new Violations();
  v.add(path, error);
  return v.reject(message);
}

/** `/a/0/b` (TypeBox) → `/a(0)/b` (Marathon). */
export function marathonPath(instancePath: string, base = ''): string {
  const p = base + instancePath.replace(/\/(\d+)(?=\/|$)/g, '($1)');
  return p === '' ? '/' : p;
}

const PLAY_TYPE: Record<string, string> = {
  number: 'error.expected.jsnumber',
  integer: 'error.expected.jsnumber',
  string: 'error.expected.jsstring',
  boolean: 'error.expected.jsboolean',
  array: 'error.expected.jsarray',
  object: 'error.expected.jsobject',
  null: 'error.expected.jsnull',
};

interface TbError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
}

/**
 * The "reads" phase: how Marathon's generated JSON readers would refuse `value` as `schema`, in
 * Play JSON's words (`error.expected.jsnumber`, `error.path.missing`, `error.min`, `error.max`,
 * `error.minLength`, `error.maxLength`, `error.pattern`, `error.unknown.enum.literal`).
 */
export function readsViolations(schema: TSchema, value: unknown, base = ''): Violation[] {
  // The compiled check is fast; the error walk only runs for a value that fails it.
  if (checkerFor(schema).Check(value)) return [];
  const errors = [...Value.Errors(schema, value)] as unknown as TbError[];
  // A failed union reports each branch's complaint and then its own: keep one message for the union.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const out = new Violations();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && unions.some((u) => e.schemaPath.startsWith(u.schemaPath + '/anyOf'))) continue;
    const path = marathonPath(e.instancePath, base);
    switch (e.keyword) {
      case 'required': {
        const missing = (e.params.requiredProperties as string[] | undefined) ?? [];
        for (const m of missing) out.add(marathonPath(`${e.instancePath}/${m}`, base), 'error.path.missing');
        break;
      }
      case 'type':
        out.add(path, PLAY_TYPE[String(e.params.type)] ?? 'error.invalid');
        break;
      case 'minimum':
      case 'exclusiveMinimum':
        out.add(path, 'error.min');
        break;
      case 'maximum':
      case 'exclusiveMaximum':
        out.add(path, 'error.max');
        break;
      case 'minLength':
      case 'minItems':
        out.add(path, 'error.minLength');
        break;
      case 'maxLength':
      case 'maxItems':
      case 'maxProperties':
        out.add(path, 'error.maxLength');
        break;
      case 'pattern':
        out.add(path, 'error.pattern');
        break;
      case 'anyOf': {
        const branches = errors.filter((b) => b.schemaPath.startsWith(e.schemaPath + '/anyOf'));
        const literal =
          branches.some((b) => b.keyword === 'const') &&
          branches.every((b) => b.keyword === 'const' || b.keyword === 'anyOf');
        out.add(
          path,
          literal && typeof readAt(value, e.instancePath) === 'string' ? 'error.unknown.enum.literal' : 'error.invalid',
        );
        break;
      }
      default:
        out.add(path, 'error.invalid');
    }
  }
  return out.list();
}

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();
function checkerFor(schema: TSchema): ReturnType<typeof Compile> {
  let c = compiled.get(schema);
  if (!c) {
    c = Compile(schema);
    compiled.set(schema, c);
  }
  return c;
}

function readAt(value: unknown, pointer: string): unknown {
  let cur = value;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

const NUMBER_TEXT = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Reads a body the lenient way Marathon's generated readers do, before the schema check:
 *
 * - fields set to `null` are dropped (an absent optional field, as Play's readNullable reads them;
 *   saved GET output has `"cmd": null`);
 * - enum values match regardless of case (`"protocol": "http"`, `"network": "bridge"`) and take
 *   the declared spelling, as the generated enum readers lower-case before matching;
 * - numbers sent as text (`"cpus": "0.5"`, `"instances": "2"`) become numbers where the schema wants
 *   a number and the text is a finite number. Nothing else is converted.
 *
 * Returns a new value; `value` is not changed. Recursion follows the schema, so its depth is bounded
 * by the schema's, whatever the input.
 */
export function coerceNumbers(schema: TSchema, value: unknown): unknown {
  const s = schema as {
    type?: unknown;
    const?: unknown;
    properties?: Record<string, TSchema>;
    items?: TSchema;
    patternProperties?: Record<string, TSchema>;
    anyOf?: TSchema[];
  };
  if (typeof value === 'string') {
    const literals = literalsOf(s);
    if (literals.length > 0 && !literals.includes(value)) {
      const lower = value.toLowerCase();
      const hit = literals.find((l) => l.toLowerCase() === lower);
      if (hit !== undefined) return hit;
    }
    const wantsNumber =
      s.type === 'number' ||
      s.type === 'integer' ||
      (s.anyOf?.some((b) => (b as { type?: unknown }).type === 'number') === true &&
        !s.anyOf.some((b) => (b as { type?: unknown }).type === 'string'));
    if (wantsNumber && NUMBER_TEXT.test(value.trim())) {
      const n = Number(value.trim());
      if (Number.isFinite(n)) return n;
    }
    return value;
  }
  if (Array.isArray(value)) {
    if (s.items) return value.map((v) => coerceNumbers(s.items as TSchema, v));
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const patterned = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
    const objectBranch = s.anyOf?.find((b) => (b as { type?: unknown }).type === 'object') as typeof s | undefined;
    for (const [k, v] of Object.entries(obj)) {
      if (v === null) continue;
      const sub = s.properties?.[k] ?? patterned ?? objectBranch?.properties?.[k];
      // defineProperty: a `__proto__` key stays a plain key instead of replacing the prototype.
      Object.defineProperty(out, k, {
        value: sub ? coerceNumbers(sub, v) : v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/** The string literals a schema allows (a const, or a union of them, nested unions included). */
function literalsOf(s: { const?: unknown; anyOf?: TSchema[] }): string[] {
  if (typeof s.const === 'string') return [s.const];
  if (!s.anyOf) return [];
  const out: string[] = [];
  for (const b of s.anyOf) out.push(...literalsOf(b as { const?: unknown; anyOf?: TSchema[] }));
  return out;
}
