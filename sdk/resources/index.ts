export * from './resources.js';
export { isValidRoleName, MAX_ROLE_LENGTH, roleNameProblem } from './roles.js';
export {
  MAX_RANGE_VALUE,
  MAX_RESOURCE_ENTRIES,
  MAX_RESOURCE_NAME_LENGTH,
  MAX_SET_ITEM_LENGTH,
  MAX_SET_ITEMS,
  RangeSchema,
  ResourceListSchema,
  ResourceSchema,
  resourceListProblem,
  resourceProblem,
} from './schema.js';
