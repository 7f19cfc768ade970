/** Property paths (`a.b[0]["c d"]`): the parser lives in lib/rules/path.ts, shared with the edit dialogs. */
export * from './rules/path';
