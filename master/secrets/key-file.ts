/** Reads `--secrets_key_file`: present, private to its owner, and 32 bytes (raw, base64 or hex). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseKey } from '../../sdk/secrets/crypto.js';
import { BadSecretsKeyFile } from '../../sdk/secrets/errors.js';

const MAX_KEY_FILE_BYTES = 4096;

export function readSecretsKeyFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new BadSecretsKeyFile(
      `cannot read --secrets_key_file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}); make one with: head -c 32 /dev/urandom > ${path} && chmod 600 ${path}`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new BadSecretsKeyFile(`--secrets_key_file ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new BadSecretsKeyFile(
        `--secrets_key_file ${path} is readable or writable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 ${path}`,
      );
    }
    if (st.size > MAX_KEY_FILE_BYTES)
      throw new BadSecretsKeyFile(`--secrets_key_file ${path} is over ${MAX_KEY_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return parseKey(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
