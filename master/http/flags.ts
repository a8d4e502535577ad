/** The master's flags as its endpoints show them: every flag given, as given, secrets redacted. */

/** Flags whose values are never shown (they hold secrets rather than name a file). */
const SECRET_FLAG = /secret|password|token/i;

export function publicFlags(flags: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(flags ?? {})) {
    out[k] = SECRET_FLAG.test(k) && !k.endsWith('_file') ? '(redacted)' : String(v);
  }
  return out;
}
