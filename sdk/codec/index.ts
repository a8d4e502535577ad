export {
  CodecError,
  CodecErrorCode,
  checkShape,
  DEFAULT_MAX_FRAME_BYTES,
  decode,
  encode,
  encodeGeneric,
  MAX_DEPTH,
  MAX_ELEMENTS,
} from './codec.js';
export { encodeOffers, encodePlain, offersEncoderStats, resetOffersEncoder } from './offers.js';
export { DEFAULT_SCAN_LIMITS, MAX_CONTAINERS, type ScanLimits, type ScanProblem, scanFrame } from './scan.js';
