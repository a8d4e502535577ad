/**
 * The scheduler driver's catalogue (reported through its `error` event). docs/errors.md lists
 * every code; never rename or reuse one. Add new entries at the end.
 */
import { defineError } from '../errors.js';

/** The framework id could not be read from or kept in `frameworkIdStore`; the driver carries on without it. */
export const DriverStoreFailed = defineError('AGORA_DRIVER_STORE_FAILED', 503, 'DriverStoreFailedError');

/** Connection attempts to the master fail (refused, unreachable, TLS not verified); the driver keeps retrying with backoff. */
export const DriverMasterUnreachable = defineError(
  'AGORA_DRIVER_MASTER_UNREACHABLE',
  503,
  'DriverMasterUnreachableError',
);
