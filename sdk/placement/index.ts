/**
 * Placement shared by Marathon and Chronos: Marathon's constraints (syntax and exact semantics)
 * and, in pipeline.ts, the pipeline of checkers run on each offer with rejection counts by reason.
 * See docs/placement.md.
 */
export * from './constraint.js';
export * from './pipeline.js';
