/**
 * The text of a 32-byte key (AES-256): 64 hex characters, or the base64 of
 * exactly 32 bytes (standard or url-safe, padding optional, canonical: no
 * stray bits). A CryptoJS passphrase is any non-empty text.
 */

export const KEY_BYTES = 32;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Bytes that canonical standard or url-safe base64 decodes to, or -1 when it is not that. */
export function base64Bytes(text: string): number {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return -1;
  if (/[+/]/.test(text) && /[-_]/.test(text)) return -1;
  const body = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const rem = body.length % 4;
  if (rem === 1) return -1;
  const pads = rem === 0 ? 0 : 4 - rem;
  // padding, when present, must be complete
  if (text.includes('=') && text.length - body.length !== pads) return -1;
  // canonical: the bits after the last whole byte are zero
  if (pads > 0) {
    const last = B64.indexOf(body[body.length - 1]);
    const unused = pads === 2 ? 0x0f : 0x03;
    if ((last & unused) !== 0) return -1;
  }
  return Math.floor((body.length * 3) / 4);
}

export type KeyFormat =
  | { ok: true; kind: 'hex' | 'base64' }
  | { ok: false; problem: 'empty' }
  | { ok: false; problem: 'hexLength' | 'base64Length'; count: number }
  | { ok: false; problem: 'format' };

/** Whether `text` is a 32-byte key, and if not, why (never quoting it). */
export function keyFormat(text: unknown): KeyFormat {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, problem: 'empty' };
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return { ok: true, kind: 'hex' };
  const n = base64Bytes(t);
  if (n === KEY_BYTES) return { ok: true, kind: 'base64' };
  if (/^[0-9a-fA-F]+$/.test(t)) return { ok: false, problem: 'hexLength', count: t.length };
  if (n >= 0) return { ok: false, problem: 'base64Length', count: n };
  return { ok: false, problem: 'format' };
}

/** key ids: 1 to 64 letters, digits, ".", "_", ":" or "-" */
export const KID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** The prefix of a Standard Webhooks secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * Why a Standard Webhooks secret will not do ("whsec_" then base64; the prefix
 * may be left out), or undefined when it will.
 */
export function webhookSecretProblem(secret: unknown): 'empty' | 'format' | undefined {
  if (typeof secret !== 'string' || secret.trim() === '') return 'empty';
  let text = secret.trim();
  if (text.startsWith(WEBHOOK_SECRET_PREFIX)) text = text.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 === 1) return 'format';
  return undefined;
}
