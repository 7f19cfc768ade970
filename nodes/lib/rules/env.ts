/**
 * `${VAR}` references. A whole-value `${NAME}` is what Node-RED substitutes in
 * plain properties (never in credentials: the nodes resolve those); the
 * endpoint also knows `${NAME:-default}` anywhere in its base URL and header values.
 */

/** a whole value `${NAME}` (surrounding blanks allowed) */
export const WHOLE_ENV_REF = /^\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$/;

/** `${NAME}` or `${NAME:-default}` anywhere (the default may be empty and holds no `}`) */
export const ENV_PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** The variable name when the whole value is `${NAME}`, else undefined. */
export function envRefName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = WHOLE_ENV_REF.exec(value);
  return m ? m[1] : undefined;
}

/** true when the text holds a `${NAME}` or `${NAME:-default}` placeholder. */
export function hasEnvPlaceholder(text: unknown): boolean {
  return new RegExp(ENV_PLACEHOLDER.source).test(String(text === undefined || text === null ? '' : text));
}
