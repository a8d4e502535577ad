/** The allocator's public face: the pure `allocate` function, its sorters, and the contract types. */
export { type AllocatorOptions, allocate, createAllocate } from './allocate.js';
export { DrfSorter } from './drf-sorter.js';
export { RandomSorter } from './random-sorter.js';
export {
  isAtOrBelow,
  ScalarSpace,
  type Sorter,
  type SorterOptions,
  type SortVisitor,
} from './sorter.js';
export * from './types.js';
