/**
 * The trigger's HTTP answers: always JSON (never a framework's HTML page),
 * never cached, with the status each error code maps to.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_RETRY_AFTER_SECONDS } from './durable-reply';

/** Error codes and the HTTP status each one is answered with. */
export const HTTP_STATUS: Record<string, number> = {
  INVALID_JSON: 400,
  JSON_TOO_DEEP: 400,
  INVALID_EVENT: 400,
  BODY_READ_FAILED: 400,
  UNAUTHORIZED: 401,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL_ERROR: 500,
  NOT_LISTENING: 503,
  SHUTTING_DOWN: 503,
};

/** The HTTP status for an error code (500 for codes we do not know). */
export function statusFor(code: string): number {
  return HTTP_STATUS[code] ?? 500;
}

export interface ReplyOptions {
  /** ask the client to close the connection (the rest of its body is not read) */
  close?: boolean;
  /**
   * keep the connection although the body was not read (Node would close it
   * at once, racing the client's writes); closeAfterAnswer() then bounds it
   */
  linger?: boolean;
  /** seconds for a Retry-After header */
  retryAfter?: number;
}

/** Writes a JSON answer unless one was already sent. Returns true when it wrote. */
export function sendJson(res: ServerResponse, status: number, body: unknown, options: ReplyOptions = {}): boolean {
  if (res.headersSent || res.writableEnded) return false;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  if (options.retryAfter !== undefined) res.setHeader('Retry-After', String(options.retryAfter));
  if (options.close) res.setHeader('Connection', 'close');
  else if (options.linger) res.setHeader('Connection', 'keep-alive');
  res.end(JSON.stringify(body));
  return true;
}

/** how long a refused request's connection stays open, and how much of its remaining body is dropped */
export const LINGER_MS = 2000;
export const LINGER_BYTES = 1048576;

/**
 * After an answer given before the body was read (401, 408, 413, 415, 503):
 * drops up to LINGER_BYTES of what the client still sends (a normal body then
 * ends and the connection stays usable), stops reading beyond that, and
 * closes the connection after LINGER_MS unless the body ended. Closing at once
 * would make the client's next write fail with a reset that can reach it
 * before our answer does; stopping reading makes an endless sender wait
 * instead, so it reads the answer.
 */
export function closeAfterAnswer(req: IncomingMessage): void {
  if (req.readableEnded) return;
  let dropped = 0;
  const onData = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) {
      req.removeListener('data', onData);
      req.pause();
    }
  };
  const timer = setTimeout(() => req.socket?.destroy(), LINGER_MS);
  timer.unref?.();
  req.on('data', onData);
  req.once('end', () => clearTimeout(timer));
  req.resume();
}

/** The answer on a path whose node is being replaced (a redeploy): try again shortly. */
export function sendNotListening(req: IncomingMessage, res: ServerResponse): void {
  sendJson(
    res,
    503,
    {
      status: 'unavailable',
      error: {
        code: 'NOT_LISTENING',
        message: 'the event trigger on this path is being redeployed; try again shortly',
        details: [],
      },
    },
    { retryAfter: DEFAULT_RETRY_AFTER_SECONDS, linger: !req.readableEnded },
  );
  closeAfterAnswer(req);
}
