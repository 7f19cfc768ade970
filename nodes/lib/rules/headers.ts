/**
 * HTTP header rules (RFC 9110 §5.1: a field name is a token; a value carries
 * no CR, LF or NUL). One home for the runtime and the edit dialogs.
 */

/** RFC 9110 field-name = token */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isHeaderName(name: unknown): name is string {
  return typeof name === 'string' && HEADER_NAME.test(name);
}

/** What a header value cannot carry: control characters other than tab (CR, LF, NUL …), or anything above U+00FF. */
export const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** A header value HTTP can carry (no line break: no header injection). */
export function isHeaderValue(value: unknown): boolean {
  return !BAD_HEADER_VALUE.test(String(value === undefined || value === null ? '' : value));
}
