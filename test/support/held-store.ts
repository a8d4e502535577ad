import { MemoryStore } from '../../master/testing/memory-store.js';

/** A MemoryStore whose puts can be held until released, and which keeps every value put. */
export class HeldStore extends MemoryStore {
  private gate?: Promise<void>;
  private open?: () => void;
  /** Every value put, as JSON, in order. */
  readonly values: { key: string; text: string }[] = [];

  hold(): void {
    this.gate = new Promise<void>((r) => {
      this.open = r;
    });
  }

  release(): void {
    this.gate = undefined;
    this.open?.();
  }

  /** Called after each put that landed. */
  afterPut?: (key: string, text: string) => void;

  override async put<T>(key: string, value: T, expectedVersion?: number): Promise<number> {
    if (this.gate) await this.gate;
    const text = JSON.stringify(value);
    this.values.push({ key, text });
    const version = await super.put(key, value, expectedVersion);
    this.afterPut?.(key, text);
    return version;
  }
}
