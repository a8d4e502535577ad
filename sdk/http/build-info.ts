/**
 * What Mesos reports of its build (`/version`, `/state`, GET_VERSION): when and by whom this copy
 * was built, read from the compiled file itself (its owner and modification time), so it needs no
 * build step of its own.
 */
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  build_date: string;
  build_time: number;
  build_user: string;
}

export function buildInfo(version: string): BuildInfo {
  let mtimeMs = 0;
  let user = 'agora';
  try {
    const st = statSync(fileURLToPath(import.meta.url));
    mtimeMs = st.mtimeMs;
    const me = userInfo();
    user = st.uid === me.uid ? me.username : String(st.uid);
  } catch {
    // keep the defaults
  }
  const t = Math.floor(mtimeMs / 1000);
  return {
    version,
    build_date: new Date(t * 1000)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ''),
    build_time: t,
    build_user: user,
  };
}
