/**
 * Marathon placement constraints (`[field, OPERATOR, value?]`): their syntax, with Marathon 1.10's
 * validation messages, and their exact semantics against an agent and the instances already placed
 * (Marathon's `mesosphere.mesos.Constraints`):
 *
 * - the field is `hostname` (or `@hostname`), `@region`, `@zone`, or an agent attribute name;
 * - an agent lacking the attribute fails every operator except UNLIKE;
 * - LIKE / UNLIKE are full (anchored) regular-expression matches;
 * - UNIQUE: no placed instance has the agent's value;
 * - CLUSTER with a value: the agent's value equals it; without: equals the first placed instance's;
 * - GROUP_BY [n]: a new value is fine; a value in use only once n values are in use and it holds
 *   no more instances than the smallest group (spread evenly);
 * - MAX_PER n: fewer than n placed instances have the agent's value;
 * - IS v: the agent's value equals v (numbers compared in Mesos's scalar text, `1.0` is `1`).
 *
 * Attribute values are given as text in Mesos's attribute syntax (`3`, `rack-1`, `[1-5,7-9]`,
 * `{a,b}`) and compared in Marathon's normal form (scalars to three decimals, ranges and sets sorted).
 */

export const CONSTRAINT_OPERATORS = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

export interface Constraint {
  field: string;
  operator: ConstraintOperator;
  value?: string;
}

/** Longest constraint value (a regular expression for LIKE/UNLIKE). */
export const MAX_CONSTRAINT_VALUE_LENGTH = 512;

/** Marathon's messages (SchedulingValidationMessages). */
export const ConstraintMessages = {
  fieldCount: 'Each constraint must have either 2 or 3 fields',
  missingFieldAndOperator: 'Missing field and operator',
  requiresField: 'missing field for constraint declaration',
  illegal: 'illegal constraint specification',
  operatorInvalid: 'operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS',
  uniqueNoValue: 'UNIQUE does not accept a value',
  groupByInt: 'GROUP BY must define an integer value or else no value at all',
  maxPerInt: 'MAX_PER requires an integer value',
  likeRequiresRegex: 'LIKE and UNLIKE require a non-empty, regular expression value',
  invalidRegex: 'is not a valid regular expression',
  isTextOrFloat:
    'IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)',
  tooLong: `constraint value must be at most ${MAX_CONSTRAINT_VALUE_LENGTH} characters`,
  /** Not Marathon's: a pattern that could backtrack for ever on one offer would stall placement. */
  nestedQuantifier: 'regular expressions with a repeated group that itself repeats (like (a+)+) are not accepted',
} as const;

const INT_RE = /^[+-]?\d+$/;
const IS_VALUE_RE = /^[a-zA-Z0-9_/.-]*$/;

/** Java's `Integer.parseInt` acceptance (32-bit). */
function javaInt(s: string): number | undefined {
  if (!INT_RE.test(s)) return undefined;
  const n = Number(s);
  return n >= -2_147_483_648 && n <= 2_147_483_647 ? n : undefined;
}

const regexCache = new Map<string, RegExp | null>();
const REGEX_CACHE_SIZE = 1_024;

/** Compiles a constraint regex as a full match (cached), or undefined when it is not a valid expression. */
export function fullMatchRegex(pattern: string): RegExp | undefined {
  const hit = regexCache.get(pattern);
  if (hit !== undefined) return hit ?? undefined;
  let re: RegExp | null;
  try {
    re = new RegExp(`^(?:${pattern})$`);
  } catch {
    re = null;
  }
  if (regexCache.size >= REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value as string);
  regexCache.set(pattern, re);
  return re ?? undefined;
}

/**
 * True when a repeated group (`*`, `+`, `{n,m}`) contains something repeated
 * (`(a+)+`, `(x*y)*`, `((ab)*c){2,}`): the shape whose backtracking grows exponentially with the
 * text. Escapes and character classes are skipped.
 */
export function hasNestedQuantifier(pattern: string): boolean {
  const stack: boolean[] = [false]; // per open group: does it contain an unbounded quantifier?
  let lastClosedHadQuantifier = false;
  let afterGroup = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      afterGroup = false;
      continue;
    }
    if (ch === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      afterGroup = false;
      continue;
    }
    if (ch === '(') {
      stack.push(false);
      afterGroup = false;
      continue;
    }
    if (ch === ')') {
      lastClosedHadQuantifier = stack.length > 1 ? (stack.pop() as boolean) : false;
      if (lastClosedHadQuantifier) stack[stack.length - 1] = true;
      afterGroup = true;
      continue;
    }
    const unbounded = ch === '*' || ch === '+' || (ch === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i, i + 24)));
    if (unbounded) {
      if (afterGroup && lastClosedHadQuantifier) return true;
      stack[stack.length - 1] = true;
    }
    afterGroup = false;
  }
  return false;
}

/** Parses Marathon's `[field, operator, value?]` array; the error is Marathon's message. */
export function parseConstraint(
  raw: readonly unknown[],
): { ok: true; constraint: Constraint } | { ok: false; error: string } {
  if (raw.length < 2 || raw.length > 3) return { ok: false, error: ConstraintMessages.fieldCount };
  if (!raw.every((x) => typeof x === 'string')) return { ok: false, error: ConstraintMessages.illegal };
  const [field, op, value] = raw as string[];
  if (field === '') return { ok: false, error: ConstraintMessages.illegal };
  const operator = op.toUpperCase() as ConstraintOperator;
  if (!CONSTRAINT_OPERATORS.includes(operator)) return { ok: false, error: ConstraintMessages.operatorInvalid };
  const c: Constraint = value === undefined ? { field, operator } : { field, operator, value };
  const why = constraintProblem(c);
  return why ? { ok: false, error: why } : { ok: true, constraint: c };
}

/** Why `c` is not a valid constraint (Marathon's message), or undefined. */
export function constraintProblem(c: Constraint): string | undefined {
  if (c.field === '') return ConstraintMessages.requiresField;
  if (c.value !== undefined && c.value.length > MAX_CONSTRAINT_VALUE_LENGTH) return ConstraintMessages.tooLong;
  switch (c.operator) {
    case 'UNIQUE':
      return c.value === undefined ? undefined : ConstraintMessages.uniqueNoValue;
    case 'CLUSTER':
      return undefined;
    case 'GROUP_BY':
      return c.value === undefined || javaInt(c.value) !== undefined ? undefined : ConstraintMessages.groupByInt;
    case 'MAX_PER':
      return c.value !== undefined && javaInt(c.value) !== undefined ? undefined : ConstraintMessages.maxPerInt;
    case 'LIKE':
    case 'UNLIKE':
      if (c.value === undefined) return ConstraintMessages.likeRequiresRegex;
      if (!fullMatchRegex(c.value)) return ConstraintMessages.invalidRegex;
      return hasNestedQuantifier(c.value) ? ConstraintMessages.nestedQuantifier : undefined;
    case 'IS':
      return IS_VALUE_RE.test(c.value ?? '') ? undefined : ConstraintMessages.isTextOrFloat;
    default:
      return ConstraintMessages.operatorInvalid;
  }
}

/** `hostname:UNIQUE`, `rack:GROUP_BY:3`: how a constraint is named in rejection counts. */
export function constraintLabel(c: Constraint): string {
  return c.value === undefined ? `${c.field}:${c.operator}` : `${c.field}:${c.operator}:${c.value}`;
}

/** Back to Marathon's array form. */
export function constraintToArray(c: Constraint): string[] {
  return c.value === undefined ? [c.field, c.operator] : [c.field, c.operator, c.value];
}

// ---- attribute values ------------------------------------------------------------------------------

const SCALAR_RE = /^[0-9]+(?:\.[0-9]+)?$/;

/** Java's DecimalFormat("0.###") with HALF_EVEN rounding, for a non-negative or negative double. */
export function formatScalar(v: number): string {
  const neg = v < 0;
  const scaled = Math.abs(v) * 1000;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  let units: number;
  // Half-even on the decimal expansion, tolerating binary noise.
  if (Math.abs(diff - 0.5) < 1e-9) units = floor % 2 === 0 ? floor : floor + 1;
  else units = Math.round(scaled);
  const int = Math.floor(units / 1000);
  const frac = units % 1000;
  let text = String(int);
  if (frac !== 0) text += '.' + String(frac).padStart(3, '0').replace(/0+$/, '');
  return neg && units !== 0 ? '-' + text : text;
}

/**
 * An attribute value in Marathon's normal form: Mesos parses `rack:3.0` as the scalar 3 (shown `3`),
 * `[5-9,1-2]` as ranges (shown sorted `[1-2,5-9]`), `{b,a}` as a set (shown `{a,b}`), anything else as text.
 */
export function attributeValueText(raw: string): string {
  const t = raw.trim();
  if (SCALAR_RE.test(t)) return formatScalar(Number(t));
  if (t.length > 2 && t.startsWith('[') && t.endsWith(']')) {
    const parts = t
      .slice(1, -1)
      .split(',')
      .map((p) => p.trim());
    const ranges = parts.map((p) => /^(\d+)-(\d+)$/.exec(p));
    if (ranges.every((m) => m !== null)) {
      return `[${(ranges as RegExpExecArray[])
        .map((m) => [Number(m[1]), Number(m[2])] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([b, e]) => `${b}-${e}`)
        .join(',')}]`;
    }
    return raw;
  }
  if (t.length > 2 && t.startsWith('{') && t.endsWith('}')) {
    const items = t
      .slice(1, -1)
      .split(',')
      .map((p) => p.trim())
      .sort();
    return `{${items.join(',')}}`;
  }
  return raw;
}

/** An agent as placement sees it. */
export interface AgentView {
  agentId: string;
  hostname: string;
  /** Mesos attributes as text (`rack: "r1"`, `cores: "8"`). */
  attributes: Readonly<Record<string, string>>;
  region?: string;
  zone?: string;
}

/** An instance already placed (or being placed) for the same run spec. */
export interface PlacedInstance {
  id?: string;
  agentId?: string;
  hostname?: string;
  attributes?: Readonly<Record<string, string>>;
  region?: string;
  zone?: string;
}

/** The value of `field` on an agent or placed instance, normalised; undefined when it has none. */
export function fieldValue(field: string, where: AgentView | PlacedInstance): string | undefined {
  switch (field) {
    case 'hostname':
    case '@hostname':
      return where.hostname;
    case '@region':
      return where.region;
    case '@zone':
      return where.zone;
    default: {
      const raw = where.attributes?.[field];
      return raw === undefined ? undefined : attributeValueText(raw);
    }
  }
}

/**
 * Whether an agent meets one constraint, given the instances of the run spec already placed and the
 * instance count wanted (GROUP_BY spreads that count). Marathon's `Constraints.meetsConstraint`.
 */
export function meetsConstraint(
  c: Constraint,
  agent: AgentView,
  placed: readonly PlacedInstance[],
  desiredInstances = 1,
): boolean {
  const offerValue = fieldValue(c.field, agent);
  if (offerValue === undefined) return c.operator === 'UNLIKE';
  const value = c.value ?? '';
  switch (c.operator) {
    case 'LIKE':
      return value !== '' && (fullMatchRegex(value)?.test(offerValue) ?? false);
    case 'UNLIKE':
      return value !== '' && !(fullMatchRegex(value)?.test(offerValue) ?? true);
    case 'UNIQUE':
      return placed.every((p) => fieldValue(c.field, p) !== offerValue);
    case 'CLUSTER':
      if (value === '') return placed.length === 0 || fieldValue(c.field, placed[0]) === offerValue;
      return offerValue === value;
    case 'IS':
      return offerValue === (SCALAR_RE.test(value) ? formatScalar(Number(value)) : value);
    case 'MAX_PER': {
      const max = javaInt(value) ?? 0;
      return placed.filter((p) => fieldValue(c.field, p) === offerValue).length < max;
    }
    case 'GROUP_BY':
      return checkGroupBy(c, offerValue, placed, desiredInstances);
    default:
      return false;
  }
}

/**
 * Marathon 1.10's GROUP_BY: an agent whose value holds no placed instance yet is fine; one whose
 * value already holds some is fine only when at least `n` values are in use and its value holds no
 * more than the smallest group (placed instances lacking the attribute form a group of their own).
 * `desired` is unused by 1.10 (later Marathon versions spread by the instance count).
 */
function checkGroupBy(c: Constraint, offerValue: string, placed: readonly PlacedInstance[], _desired: number): boolean {
  const minimum = Math.max(0, c.value === 'inf' ? 2_147_483_647 : (javaInt(c.value ?? '') ?? 0));
  const counts = new Map<string | undefined, number>();
  for (const p of placed) {
    const v = fieldValue(c.field, p);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const here = counts.get(offerValue);
  if (here === undefined) return true;
  const minCount = Math.min(...counts.values());
  return counts.size >= minimum && here === minCount;
}
