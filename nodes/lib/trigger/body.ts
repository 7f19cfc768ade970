/**
 * Reading a request body as the exact bytes sent, within bounds: at most
 * `maxBytes` (refused first by the declared Content-Length, before anything
 * is read, then by counting as the bytes stream in — a chunked body declares
 * none) and within `timeoutMs` (a sender that trickles its body is cut off).
 * Also the content types the trigger reads, and the preview of a refused body.
 */
import type { Readable } from 'node:stream';
import { IntegrationError } from '../errors';

export const DEFAULT_MAX_BYTES = 1048576;
/** how long the whole body may take to arrive */
export const DEFAULT_BODY_TIMEOUT_SECONDS = 10;
export const MAX_BODY_TIMEOUT_SECONDS = 600;
/** how much of a rejected body is kept on `msg.payload` */
export const REJECTED_BODY_PREVIEW_BYTES = 1024;

/**
 * Content types we read as JSON: none at all, `application/json`, any
 * `type/subtype+json`, `text/json` and `text/plain` (parameters ignored).
 */
export function isAcceptableContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true;
  const media = contentType.split(';')[0].trim().toLowerCase();
  if (media === 'text/plain') return true;
  return /^[a-z0-9!#$&^_.-]+\/(?:[a-z0-9!#$&^_.-]+\+)?json$/.test(media);
}

/** An IntegrationError that also carries the bytes read so far. */
export class BodyError extends IntegrationError {
  readonly partial: Buffer;
  constructor(code: string, message: string, partial: Buffer, reason?: string) {
    super(code, message, reason ? [{ field: 'body', reason }] : []);
    this.partial = partial;
  }
}

/** The PAYLOAD_TOO_LARGE error, for a declared or a streamed size. */
export function tooLarge(maxBytes: number, partial: Buffer = Buffer.alloc(0), declared?: number): BodyError {
  const reason =
    declared !== undefined
      ? `Content-Length ${declared} is more than the limit of ${maxBytes} bytes`
      : `the body is more than the limit of ${maxBytes} bytes`;
  return new BodyError('PAYLOAD_TOO_LARGE', 'the body is too large', partial, reason);
}

/** The REQUEST_TIMEOUT error: the body did not arrive in time. */
export function tooSlow(timeoutMs: number, partial: Buffer = Buffer.alloc(0)): BodyError {
  return new BodyError(
    'REQUEST_TIMEOUT',
    'the body did not arrive in time',
    partial,
    `not complete after ${timeoutMs / 1000} s (${partial.length} bytes read)`,
  );
}

/** The declared Content-Length, when it is a plain number. */
export function declaredLength(headers: Record<string, string | string[] | undefined> | undefined): number | undefined {
  const text = headers?.['content-length'];
  return typeof text === 'string' && /^\d{1,20}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

export interface ReadBodyOptions {
  /** how long the whole body may take, in milliseconds (0 or less: no limit) */
  timeoutMs?: number;
}

/**
 * Reads a request body into a Buffer, refusing more than `maxBytes` and a
 * body slower than `timeoutMs`. On overflow or timeout the stream is paused
 * and the promise rejects with a BodyError (PAYLOAD_TOO_LARGE,
 * REQUEST_TIMEOUT, BODY_READ_FAILED) holding what was read.
 */
export function readBody(
  req: Readable & { headers?: Record<string, string | string[] | undefined> },
  maxBytes: number,
  options: ReadBodyOptions = {},
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declared = declaredLength(req.headers);
    if (declared !== undefined && declared > maxBytes) {
      reject(tooLarge(maxBytes, Buffer.alloc(0), declared));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
      req.removeListener('close', onClose);
    };
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      cleanup();
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      if (finished) return;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (length + buf.length > maxBytes) {
        chunks.push(buf.subarray(0, Math.max(0, maxBytes - length)));
        fail(tooLarge(maxBytes, Buffer.concat(chunks)));
        return;
      }
      chunks.push(buf);
      length += buf.length;
    };
    const onEnd = () => {
      if (finished) return;
      finished = true;
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (err: Error) =>
      fail(new BodyError('BODY_READ_FAILED', 'the body could not be read', Buffer.concat(chunks), err.message));
    const onAborted = () =>
      fail(new BodyError('BODY_READ_FAILED', 'the request was aborted', Buffer.concat(chunks), 'aborted'));
    const onClose = () => {
      // 'close' before 'end' means the client went away mid-body
      if (!finished && !req.readableEnded) onAborted();
    };
    const timeoutMs = options.timeoutMs ?? 0;
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => fail(tooSlow(timeoutMs, Buffer.concat(chunks))), timeoutMs);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.on('close', onClose);
    req.resume();
  });
}

/** The first `max` bytes of a body as text, for `msg.payload` of a rejected request. */
export function previewBody(body: Buffer | string | undefined, max = REJECTED_BODY_PREVIEW_BYTES): string {
  if (body === undefined) return '';
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return buf.subarray(0, max).toString('utf8');
}
