/**
 * The one role-name rule (Mesos's `roles::validate`, with hierarchical roles `a/b/c`): used by the
 * protocol schema (FrameworkInfo.roles, Resource.role, SUPPRESS/REVIVE roles) and by the master's
 * `/weights` and `/quota`.
 */

/** The default role: unreserved resources, frameworks without a role. */
export const DEFAULT_ROLE = '*';

/** Longest role name accepted. */
export const MAX_ROLE_LENGTH = 256;

// Whitespace (Unicode), C0 and C1 control characters, DEL, `*` and `\`.
const FORBIDDEN_IN_ROLE = /[\s\p{Cc}*\\]/u;

/**
 * Why `name` is not a valid role name, or undefined when it is. `*` is valid on its own. Otherwise
 * the name is one or more `/`-separated components, each non-empty, not `.` or `..`, not starting
 * with `-`, without whitespace, control characters, `*` or `\`; at most {@link MAX_ROLE_LENGTH}
 * characters in all.
 */
export function roleNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a role name must be a non-empty string';
  if (name === DEFAULT_ROLE) return undefined;
  if (name.length > MAX_ROLE_LENGTH) return `a role name must be at most ${MAX_ROLE_LENGTH} characters`;
  if (FORBIDDEN_IN_ROLE.test(name)) {
    return `role ${JSON.stringify(name)} contains whitespace, a control character, '*' or '\\'`;
  }
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') {
      return `role ${JSON.stringify(name)} has an empty, '.' or '..' component`;
    }
    if (part.charCodeAt(0) === 0x2d) return `role ${JSON.stringify(name)} has a component starting with '-'`;
  }
  return undefined;
}

/** Whether `name` passes {@link roleNameProblem}. */
export function isValidRoleName(name: unknown): name is string {
  return roleNameProblem(name) === undefined;
}
