/** Object shape checks. */

/** A non-null object that is not an array (what JSON.parse gives for `{…}`, or any class instance). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object literal or Object.create(null): no class instance, no array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!isRecord(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
