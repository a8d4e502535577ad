import { randomUUID } from 'node:crypto';

/** Ids in Mesos's spirit: a stable prefix per master run and a counter (`<uuid>-O12`). */
export function newId(): string {
  return randomUUID();
}

export class IdSequence {
  private n = 0;
  constructor(private readonly prefix: string) {}
  next(tag: string): string {
    return `${this.prefix}-${tag}${this.n++}`;
  }
}
