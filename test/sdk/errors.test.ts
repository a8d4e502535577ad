/** The SDK's errors are catalogue entries: AgoraError with a stable code and the status the catalogue declares. */
import { expect } from 'chai';
import { CodecError, CodecErrorCode } from '../../sdk/codec/index.js';
import * as catalogue from '../../sdk/errors.js';
import { AgoraError, codesOf, statusOf } from '../../sdk/errors.js';
import { ProtocolError } from '../../sdk/protocol/index.js';
import { ResourceError } from '../../sdk/resources/resources.js';
import {
  StoreClosedError,
  StoreConflictError,
  StoreCorruptError,
  StoreKeyError,
  StoreLockedError,
  StoreUnavailableError,
  StoreValueError,
} from '../../sdk/store/store.js';
import { validateId } from '../../sdk/util/id.js';

describe('SDK error catalogue', () => {
  const codes = new Set(codesOf(catalogue));
  const made: [string, AgoraError][] = [
    ...Object.values(CodecErrorCode).map(
      (code) => [`CodecError ${code}`, new CodecError('x', code)] as [string, AgoraError],
    ),
    ['ProtocolError', new ProtocolError('x')],
    ['ProtocolError unknown type', new ProtocolError('x', 'AGORA_PROTOCOL_UNKNOWN_TYPE')],
    ['ResourceError', new ResourceError('x')],
    ['StoreConflictError', new StoreConflictError('k', 1, 2)],
    ['StoreKeyError', new StoreKeyError('k', 'x')],
    ['StoreValueError', new StoreValueError('k', 'x')],
    ['StoreLockedError', new StoreLockedError('/d', 1)],
    ['StoreClosedError', new StoreClosedError()],
    ['StoreCorruptError', new StoreCorruptError('k', 'x')],
    ['StoreUnavailableError', new StoreUnavailableError('x')],
  ];
  for (const [name, e] of made) {
    it(`${name} is an AgoraError with a catalogue code and its status`, () => {
      expect(e).to.be.instanceOf(AgoraError);
      expect(codes, e.code).to.include(e.code);
      expect(e.statusCode).to.equal(statusOf(e.code));
      expect(e.statusCode).to.be.within(400, 599);
      expect(e.toJSON()).to.deep.equal({ code: e.code, message: e.message });
    });
  }

  it('answers a frame over the limit with 413 and a conflict with 409', () => {
    expect(new CodecError('x', CodecErrorCode.FRAME_TOO_LARGE).statusCode).to.equal(413);
    expect(new StoreConflictError('k', 1).statusCode).to.equal(409);
  });

  it('validateId throws the catalogue entry IdInvalid', () => {
    expect(() => validateId('..')).to.throw(catalogue.IdInvalid);
  });
});
