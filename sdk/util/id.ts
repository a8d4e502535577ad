import { randomUUID } from 'node:crypto';

/** Ids in Mesos's spirit: a stable prefix per master run and a counter (`<uuid>-O12`). */
export function newId(): string {
  return randomUUID();
}

/** `<prefix>-S0`, `<prefix>-S1`, `<prefix>-O0`...: one counter per tag, as Mesos numbers agents, offers, frameworks. */
export class IdSequence {
  private readonly counters = new Map<string, number>();
  constructor(private readonly prefix: string) {}
  next(tag: string): string {
    const n = this.counters.get(tag) ?? 0;
    this.counters.set(tag, n + 1);
    return `${this.prefix}-${tag}${n}`;
  }
}
