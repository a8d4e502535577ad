/**
 * The secrets catalogue: the store's key file, names and values, the API, and delivery to tasks.
 * docs/errors.md lists every code; never rename or reuse one. Add new entries at the end.
 */
import { defineError } from '../errors.js';

/** The master was started without `--secrets_key_file`: the secrets API and delivery are off. */
export const SecretsDisabled = defineError('AGORA_SECRETS_DISABLED', 503, 'SecretsDisabledError');
/** `--secrets_key_file` is missing, unreadable, not 32 bytes (raw, base64 or hex), or readable by others. */
export const BadSecretsKeyFile = defineError('AGORA_SECRETS_BAD_KEY_FILE', 400, 'BadSecretsKeyFileError');
/** A secret name that is not a path like `/prod/db/password` (segments, characters, lengths). */
export const BadSecretName = defineError('AGORA_SECRETS_BAD_NAME', 400, 'BadSecretNameError');
/** A secret value over the bound (64 KiB). */
export const SecretTooLarge = defineError('AGORA_SECRETS_TOO_LARGE', 413, 'SecretTooLargeError');
/** No secret by that name. */
export const SecretNotFound = defineError('AGORA_SECRETS_NOT_FOUND', 404, 'SecretNotFoundError');
/** A stored secret that does not decrypt: tampered with, bound to another name, or another key. */
export const SecretUnreadable = defineError('AGORA_SECRETS_UNREADABLE', 500, 'SecretUnreadableError');
/** The store already holds the most secrets it may (10,000). */
export const TooManySecrets = defineError('AGORA_SECRETS_TOO_MANY', 409, 'TooManySecretsError');
/** A task's secret references are malformed (bad volume path, too many, both a value and a secret). */
export const BadSecretReference = defineError('AGORA_SECRETS_BAD_REFERENCE', 400, 'BadSecretReferenceError');
/** The framework's principal may not read a secret the task names (ACL `access_secrets`). */
export const SecretAccessDenied = defineError('AGORA_SECRETS_ACCESS_DENIED', 403, 'SecretAccessDeniedError');
/** An agent asked for the secrets of a task the master did not place on it. */
export const SecretsWrongAgent = defineError('AGORA_SECRETS_WRONG_AGENT', 403, 'SecretsWrongAgentError');
/** The agent got no answer to its secrets request in time (or lost its master connection). */
export const SecretsTimeout = defineError('AGORA_SECRETS_TIMEOUT', 504, 'SecretsTimeoutError');
