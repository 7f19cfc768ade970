/**
 * The idempotency key sent for an event: a one-to-one function of the event
 * id that is always a valid HTTP header value.
 *
 * - Printable ASCII other than `%` (0x21–0x7E) passes through unchanged, so
 *   the usual ids (`evt_123`, UUIDs, `order-42`) are their own key.
 * - Everything else — `%` itself, space, control characters, non-ASCII — is
 *   percent-encoded as the UTF-8 bytes of the character (`%E2%82%AC` for €),
 *   upper-case hex. A lone UTF-16 surrogate (not valid Unicode) is encoded as
 *   the three bytes of its code unit (WTF-8), which no valid character
 *   produces.
 *
 * Because `%` only ever appears as the start of an escape, the key decodes
 * back to exactly one id: distinct ids never share a key (`a%25` is the key
 * of `a%`, and `a%2525` the key of `a%25`).
 *
 * The trigger refuses ids that should not become a key at all (control
 * characters, lone surrogates, keys over MAX_IDEMPOTENCY_KEY_LENGTH): see
 * `idempotencyKeyProblem`.
 */

/** The longest key accepted at the trigger (Stripe, among others, allows 255). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const HEX = '0123456789ABCDEF';

function escapeByte(b: number): string {
  return '%' + HEX[b >> 4] + HEX[b & 15];
}

/** The UTF-8 (WTF-8 for a lone surrogate) bytes of one code point, escaped. */
function escapeCodePoint(cp: number): string {
  if (cp < 0x80) return escapeByte(cp);
  if (cp < 0x800) return escapeByte(0xc0 | (cp >> 6)) + escapeByte(0x80 | (cp & 63));
  if (cp < 0x10000) {
    return escapeByte(0xe0 | (cp >> 12)) + escapeByte(0x80 | ((cp >> 6) & 63)) + escapeByte(0x80 | (cp & 63));
  }
  return (
    escapeByte(0xf0 | (cp >> 18)) +
    escapeByte(0x80 | ((cp >> 12) & 63)) +
    escapeByte(0x80 | ((cp >> 6) & 63)) +
    escapeByte(0x80 | (cp & 63))
  );
}

/** true for the characters that stand for themselves in a key */
function isPlain(code: number): boolean {
  return code >= 0x21 && code <= 0x7e && code !== 0x25;
}

/** The idempotency key of an event id (see the file header). Never throws. */
export function idempotencyKey(id: string): string {
  const text = String(id);
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isPlain(code)) continue;
    out += text.slice(plainFrom, i);
    let cp = code;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    out += escapeCodePoint(cp);
    plainFrom = i + 1;
  }
  return plainFrom === 0 ? text : out + text.slice(plainFrom);
}

/** The id a key was made from (the inverse of `idempotencyKey`, for tests and tools). */
export function idFromIdempotencyKey(key: string): string {
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length === 0) return;
    out += decodeWtf8(bytes);
    bytes.length = 0;
  };
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '%' && /^[0-9A-F]{2}$/.test(key.slice(i + 1, i + 3))) {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      flush();
      out += key[i];
    }
  }
  flush();
  return out;
}

function decodeWtf8(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    let cp: number;
    let n: number;
    if (b < 0x80) [cp, n] = [b, 1];
    else if (b >= 0xf0) [cp, n] = [b & 7, 4];
    else if (b >= 0xe0) [cp, n] = [b & 15, 3];
    else [cp, n] = [b & 31, 2];
    for (let k = 1; k < n; k++) cp = (cp << 6) | ((bytes[i + k] ?? 0) & 63);
    out += cp > 0xffff ? String.fromCodePoint(cp) : String.fromCharCode(cp);
    i += n;
  }
  return out;
}

/** Any character that is a control character (C0, DEL, C1) or a lone surrogate. */
const UNSAFE_ID = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why an event id cannot become an idempotency key, or undefined when it can:
 * control characters (NUL, CR, LF, tab …), invalid Unicode (a lone
 * surrogate), or a key longer than MAX_IDEMPOTENCY_KEY_LENGTH.
 */
export function idempotencyKeyProblem(id: string): string | undefined {
  const m = UNSAFE_ID.exec(id);
  if (m) {
    const code = m[0].charCodeAt(0);
    return code >= 0xd800
      ? 'must be valid Unicode (it holds a lone surrogate)'
      : `must not contain control characters (U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${m.index})`;
  }
  const length = idempotencyKey(id).length;
  if (length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return `makes an idempotency key of ${length} characters, more than ${MAX_IDEMPOTENCY_KEY_LENGTH} (non-ASCII characters count 6-12 each)`;
  }
  return undefined;
}

/** true when `value` may be sent as a header value as it is (visible ASCII, inner spaces). */
export function isHeaderValue(value: string): boolean {
  return /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value);
}
