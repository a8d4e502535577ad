/**
 * Marathon groups (`group.raml`): a tree of groups holding apps and pods, with `dependencies` on
 * other apps or groups. As sent, apps/pods/groups are checked by their own normalisers.
 */
import { type Static, Type } from 'typebox';
import { MAX_LIST_ITEMS } from './limits.js';
import type { App } from './schema-app.js';
import { PathIdString, Text } from './schema-app.js';
import type { Pod } from './schema-pod.js';

export const GroupSchema = Type.Object({
  id: Type.Optional(PathIdString),
  apps: Type.Optional(Type.Array(Type.Unknown(), { maxItems: MAX_LIST_ITEMS * 10 })),
  pods: Type.Optional(Type.Array(Type.Unknown(), { maxItems: MAX_LIST_ITEMS * 10 })),
  groups: Type.Optional(Type.Array(Type.Unknown(), { maxItems: MAX_LIST_ITEMS })),
  dependencies: Type.Optional(Type.Array(PathIdString, { maxItems: MAX_LIST_ITEMS })),
  version: Type.Optional(Text(64)),
  enforceRole: Type.Optional(Type.Boolean()),
});
export type GroupInput = Static<typeof GroupSchema>;

/** A group in canonical form: absolute ids everywhere, children normalised. */
export interface Group {
  id: string;
  apps: App[];
  pods: Pod[];
  groups: Group[];
  dependencies: string[];
  version?: string;
  enforceRole?: boolean;
}
