export { CodecError, CodecErrorCode, DEFAULT_MAX_FRAME_BYTES, decode, encode, MAX_DEPTH } from './codec.js';
