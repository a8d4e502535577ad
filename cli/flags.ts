/**
 * A small flag parser in Mesos's style: `--name=value` or `--name value`, `--flag` for booleans,
 * with a help text generated from the same definitions that give the defaults.
 */
export interface FlagDef {
  name: string;
  help: string;
  default?: string;
  boolean?: boolean;
  required?: boolean;
}

export interface CommandDef {
  name: string;
  summary: string;
  usage: string;
  flags: FlagDef[];
  examples?: string[];
}

export class UsageError extends Error {}

export type Flags = Record<string, string | undefined>;

export function helpText(cmd: CommandDef): string {
  const width = Math.max(...cmd.flags.map((f) => f.name.length)) + 4;
  const lines = [`${cmd.summary}`, '', `Usage: ${cmd.usage}`, '', 'Flags:'];
  for (const f of cmd.flags) {
    const def = f.default !== undefined ? ` (default: ${f.default})` : f.required ? ' (required)' : '';
    lines.push(`  --${f.name.padEnd(width)}${f.help}${def}`);
  }
  lines.push(`  --${'help'.padEnd(width)}print this help`);
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

export function parseFlags(cmd: CommandDef, argv: string[]): Flags {
  const out: Flags = {};
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      throw new UsageError(`unexpected argument '${a}' for '${cmd.name}': flags take the form --name=value`);
    }
    const eq = a.indexOf('=');
    const name = (eq >= 0 ? a.slice(2, eq) : a.slice(2)).replace(/-/g, '_');
    if (name === 'help') {
      out.help = 'true';
      continue;
    }
    const def = byName.get(name);
    if (!def) throw new UsageError(`unknown flag --${name} for '${cmd.name}' (see 'agora ${cmd.name} --help')`);
    if (def.boolean) {
      out[name] = eq >= 0 ? a.slice(eq + 1) : 'true';
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
    out[name] = value;
  }
  if (out.help) return out;
  for (const f of cmd.flags) {
    if (out[f.name] === undefined && f.default !== undefined) out[f.name] = f.default;
    if (f.required && out[f.name] === undefined) {
      throw new UsageError(`flag --${f.name} is required for '${cmd.name}' (see 'agora ${cmd.name} --help')`);
    }
  }
  return out;
}

export function intFlag(flags: Flags, name: string): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`--${name} must be a whole number, got '${flags[name]}'`);
  return v;
}
