/**
 * Who may post events: nobody checked ("none"), a shared secret in a header
 * ("secret"), or a Standard Webhooks signature over the exact body bytes
 * ("webhook", lib/webhook-signature.ts). Set up once from the node's
 * credential (a `${VAR}` reference is read from the environment); a missing
 * or unusable credential makes every request 401 until it is fixed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { IntegrationError, toErrorInfo } from '../errors';
import { resolveEnvRef } from '../env';
import {
  checkWebhookHeaders,
  decodeWebhookSecret,
  safeEqualSecret,
  verifyWebhook,
  type VerifyOptions,
} from '../webhook-signature';
import { isHeaderName } from '../rules';

export type AuthMode = 'none' | 'secret' | 'webhook';
export const DEFAULT_AUTH_HEADER = 'x-webhook-secret';

export function authModeOf(value: unknown): AuthMode {
  return value === 'secret' || value === 'webhook' ? value : 'none';
}

/** The header that carries the shared secret: lower case, the default when not a valid name. */
export function authHeaderOf(value: unknown): string {
  const name = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return isHeaderName(name) ? name : DEFAULT_AUTH_HEADER;
}

export type BodyCheck = { ok: true; webhookId?: string } | { ok: false; reason: string };

export interface CallerAuth {
  readonly mode: AuthMode;
  /** why authentication cannot work (no secret, unset variable, bad secret), or undefined */
  readonly problem?: string;
  /** The checks that need no body: the reason to refuse, or undefined. */
  checkHeaders(headers: IncomingHttpHeaders): string | undefined;
  /** The checks over the exact body bytes (the signature), with the verified webhook-id. */
  checkBody(headers: IncomingHttpHeaders, body: Buffer): BodyCheck;
}

export function unauthorized(reason: string): IntegrationError {
  return new IntegrationError('UNAUTHORIZED', 'the request is not authenticated', [{ reason }]);
}

/**
 * The caller check for a mode and its credential (the shared secret or the
 * `whsec_…` signing secret, either possibly `${VAR}`). Never keeps or reports
 * the secret itself.
 */
export function createCallerAuth(
  mode: AuthMode,
  options: { header?: string; credential?: string; env?: NodeJS.ProcessEnv; verify?: VerifyOptions } = {},
): CallerAuth {
  const header = authHeaderOf(options.header);
  if (mode === 'none') {
    return { mode, checkHeaders: () => undefined, checkBody: () => ({ ok: true }) };
  }
  const resolved = resolveEnvRef(options.credential, options.env);
  let problem: string | undefined;
  if (resolved.missing) problem = `environment variable ${resolved.variable} is not set`;
  else if (!resolved.value) problem = mode === 'secret' ? 'no shared secret is set' : 'no webhook secret is set';
  let key: Buffer | undefined;
  if (!problem && mode === 'webhook') {
    try {
      key = decodeWebhookSecret(resolved.value!);
    } catch (err) {
      problem = toErrorInfo(err).message;
    }
  }
  const secret = mode === 'secret' ? resolved.value : undefined;
  const unavailable = 'authentication is not available';

  if (mode === 'secret') {
    return {
      mode,
      problem,
      checkHeaders(headers) {
        if (problem) return unavailable;
        if (safeEqualSecret(headers[header], secret!)) return undefined;
        return headers[header] === undefined ? `missing header ${header}` : `header ${header} does not match`;
      },
      checkBody: () => ({ ok: true }),
    };
  }
  return {
    mode,
    problem,
    checkHeaders(headers) {
      if (problem) return unavailable;
      const pre = checkWebhookHeaders(headers, options.verify);
      return pre.ok ? undefined : pre.reason;
    },
    checkBody(headers, body) {
      if (problem) return { ok: false, reason: unavailable };
      const verified = verifyWebhook(key!, headers, body, options.verify);
      if (!verified.ok) return verified;
      const id = headers['webhook-id'];
      return { ok: true, webhookId: Array.isArray(id) ? id.join(' ') : id };
    },
  };
}
