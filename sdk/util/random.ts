/** A seeded random source, so that a run (an allocation cycle, a backoff schedule) can be replayed. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
}

/** The process's own random source (Math.random), where no run needs replaying. */
export const mathRandom: Rng = { next: () => Math.random() };

/** mulberry32: small, fast, good enough for shuffling and jitter (not for secrets). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
