export {
  CodecError,
  CodecErrorCode,
  checkShape,
  DEFAULT_MAX_FRAME_BYTES,
  decode,
  encode,
  MAX_DEPTH,
  MAX_ELEMENTS,
} from './codec.js';
export { DEFAULT_SCAN_LIMITS, MAX_CONTAINERS, type ScanLimits, type ScanProblem, scanFrame } from './scan.js';
