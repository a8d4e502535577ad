/** The TLS catalogue (docs/errors.md). */
import { defineError } from '../errors.js';

/** A certificate, key or CA file that is missing, unreadable, too large or not PEM. */
export const TlsBadFile = defineError('AGORA_TLS_BAD_FILE', 400, 'TlsBadFileError');
/** A route that requires a client certificate got a connection without a verified one. */
export const TlsClientCertRequired = defineError('AGORA_TLS_CLIENT_CERT_REQUIRED', 401, 'TlsClientCertRequiredError');
/** Making certificates failed (the tool behind `CertificateMaker` refused or is missing). */
export const TlsCertMakingFailed = defineError('AGORA_TLS_CERT_MAKING_FAILED', 500, 'TlsCertMakingFailedError');
