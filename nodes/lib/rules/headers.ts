/**
 * HTTP header rules (RFC 9110 §5.1: a field name is a token; a value carries
 * no CR, LF or NUL). One home for the runtime and the edit dialogs.
 */

/** RFC 9110 field-name = token */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isHeaderName(name: unknown): name is string {
  return typeof name === 'string' && HEADER_NAME.test(name);
}

/** A header value must not carry CR, LF or NUL (header injection). */
export function isHeaderValue(value: unknown): boolean {
  return !/[\r\n\0]/.test(String(value === undefined || value === null ? '' : value));
}
