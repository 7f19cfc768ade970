/**
 * One HTTP exchange through undici, with the answer read under limits:
 *
 *  - the body is read into memory only up to `maxResponseBytes`: a
 *    Content-Length above it is refused before a byte is read, and a stream
 *    that grows past it is cut off (the connection is destroyed) — both end in
 *    a ResponseTooLargeError that still carries the status and headers;
 *  - a gzip, deflate or br body (sent although we never ask for one) is
 *    decoded, and the limit applies to the decoded bytes too;
 *  - `signal` aborts the exchange at any point, the read of the body
 *    included: the caller's deadline therefore bounds the whole exchange, so
 *    an endless answer ends;
 *  - redirects are not followed (the 3xx comes back like any status).
 *
 * No Node-RED import.
 */
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import { undici } from './undici';
import type { HttpMethod } from './types';
import { Stop, type StopSignal } from './abort';

export const RESPONSE_TOO_LARGE = 'RESPONSE_TOO_LARGE';
/** The default largest answer read into memory: 10 MB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface TransportRequest {
  method: HttpMethod | 'POST';
  url: string;
  headers: Record<string, string>;
  /** the exact bytes to send; undefined: no body */
  data?: Buffer;
  /** ms; undici's own header/body idle timers (the caller's signal is the real deadline); 0: none */
  timeout: number;
  /** aborts the exchange, the body read included */
  signal: StopSignal;
  dispatcher?: Dispatcher;
  /** false: close the connection after this exchange */
  keepAlive?: boolean;
  /** the most bytes of body read (default 10 MB) */
  maxResponseBytes?: number;
}

export interface TransportResponse {
  status: number;
  statusText?: string;
  headers: unknown;
  data: unknown;
}

export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** The answer was larger than allowed; status and headers are what came before the body. */
export class ResponseTooLargeError extends Error {
  readonly code = RESPONSE_TOO_LARGE;
  constructor(
    readonly limit: number,
    readonly status: number,
    readonly headers: Record<string, string | string[]>,
    readonly declared?: number,
  ) {
    super(
      declared !== undefined
        ? `the answer declares ${declared} bytes, more than the limit of ${limit} bytes`
        : `the answer grew past the limit of ${limit} bytes; the rest was not read`,
    );
    this.name = 'ResponseTooLargeError';
  }
}

export function isResponseTooLarge(err: unknown): err is ResponseTooLargeError {
  return err instanceof ResponseTooLargeError || (err as { code?: unknown })?.code === RESPONSE_TOO_LARGE;
}

function headerValue(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function decoderFor(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  const e = (encoding || '').trim().toLowerCase();
  if (e === 'gzip' || e === 'x-gzip') return zlib.createGunzip();
  if (e === 'deflate') return zlib.createInflate();
  if (e === 'br') return zlib.createBrotliDecompress();
  return undefined;
}

/**
 * Reads a stream into one Buffer, refusing more than `limit` bytes.
 * `onLimit` builds the error thrown when the limit is passed.
 */
export async function readBounded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  limit: number,
  onLimit: () => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += b.length;
    if (total > limit) throw onLimit();
    chunks.push(b);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

/** Sends one request through undici and reads the answer under the size limit. */
export const undiciTransport: Transport = async (req) => {
  const limit = req.maxResponseBytes && req.maxResponseBytes > 0 ? req.maxResponseBytes : DEFAULT_MAX_RESPONSE_BYTES;
  // one object built whole for this request (undici() may complete it in place); no timeout: undici's defaults
  const timeout = req.timeout > 0 ? req.timeout : undefined;
  const res = await undici().request(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.method === 'GET' || req.data === undefined ? undefined : req.data,
    dispatcher: req.dispatcher,
    signal: req.signal,
    reset: req.keepAlive === false,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  } as Parameters<typeof Undici.request>[1]);
  const headers = res.headers as Record<string, string | string[]>;
  const body = res.body as unknown as Readable & { destroy(err?: Error): void };
  // destroying the body (limit reached) emits an abort error: it is ours, not an uncaught one
  body.on('error', () => undefined);
  const declared = Number(headerValue(headers, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw new ResponseTooLargeError(limit, res.statusCode, headers, declared);
  }
  const tooLarge = () => new ResponseTooLargeError(limit, res.statusCode, headers);
  const decoder = decoderFor(headerValue(headers, 'content-encoding'));
  let data: Buffer;
  try {
    if (decoder) {
      // the compressed bytes count too: a slow trickle of compressed data is still bounded
      let raw = 0;
      body.on('data', (c: Buffer) => {
        raw += c.length;
        if (raw > limit) body.destroy(tooLarge());
      });
      decoder.on('error', () => undefined);
      body.on('error', (err: Error) => decoder.destroy(err));
      body.pipe(decoder);
      data = await readBounded(decoder, limit, tooLarge);
    } else {
      data = await readBounded(body, limit, tooLarge);
    }
  } catch (err) {
    body.destroy();
    decoder?.destroy();
    throw err;
  }
  return { status: res.statusCode, headers, data };
};

/** What one exchange gave back: an answer, or the reason there was none. */
export interface Exchange {
  response?: TransportResponse;
  failure?: unknown;
  /** true when the deadline (the prepared request's timeout) cut it off */
  timedOut: boolean;
  timeoutMs: number;
  method: string;
}

/** What exchange() needs of a prepared request (lib/http/types.ts PreparedRequest). */
export interface ExchangeRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  dispatcher?: Dispatcher;
  keepAlive?: boolean;
  maxResponseBytes?: number;
}

/**
 * Sends a prepared request through `transport` under its deadline (the body
 * read included) and the caller's signal; never rejects.
 */
export async function exchange(
  transport: Transport,
  prepared: ExchangeRequest,
  body: Buffer | null,
  signal: StopSignal,
): Promise<Exchange> {
  const attemptCtl = new Stop();
  const onOuterAbort = () => attemptCtl.abort();
  signal.addEventListener('abort', onOuterAbort, { once: true });
  const timeoutMs = Number.isFinite(prepared.timeoutMs) && prepared.timeoutMs > 0 ? prepared.timeoutMs : 0;
  const ex: Exchange = { timedOut: false, timeoutMs, method: prepared.method };
  const deadline = timeoutMs
    ? setTimeout(() => {
        ex.timedOut = true;
        attemptCtl.abort();
      }, timeoutMs)
    : undefined;
  try {
    ex.response = await transport({
      url: prepared.url,
      method: prepared.method,
      headers: Object.assign({}, prepared.headers),
      data: prepared.method === 'GET' || body === null ? undefined : body,
      timeout: timeoutMs,
      signal: attemptCtl,
      dispatcher: prepared.dispatcher,
      keepAlive: prepared.keepAlive,
      maxResponseBytes: prepared.maxResponseBytes,
    });
  } catch (err) {
    ex.failure = err;
  } finally {
    if (deadline) clearTimeout(deadline);
    signal.removeEventListener('abort', onOuterAbort);
  }
  return ex;
}
