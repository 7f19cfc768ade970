/**
 * Authentication applied to one request: API key (header or query), HTTP
 * Basic, Bearer token, OAuth2 Bearer (the token comes from oauth2.ts). Plus
 * the header helpers the endpoint needs: name checks and a case-insensitive
 * merge in which later layers win. Pure: no I/O, no Node-RED.
 */
import { IntegrationError } from '../errors';
import { setQueryParam } from './base-url';
import { AUTH_TYPES, authCredentialProblem, isHeaderName, isHeaderValue } from '../rules';

export { AUTH_TYPES };
export type AuthType = (typeof AUTH_TYPES)[number];

/** RFC 9110 §5.1 field-name = token (lib/rules/headers.ts) */
export const isValidHeaderName = isHeaderName;

/** A header value must not carry CR, LF or NUL (header injection). */
export const isValidHeaderValue = (value: string): boolean => isHeaderValue(value);

/** What is needed to authenticate, with credentials already resolved. */
export interface AuthSettings {
  type: AuthType;
  apiKeyIn?: 'header' | 'query';
  apiKeyName?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  token?: string;
}

export interface AuthResult {
  /** headers that override anything with the same name (case-insensitive) */
  headers: Record<string, string>;
  /** the URL, with the API-key query parameter when there is one */
  url: string;
}

export function basicAuthorization(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/**
 * Checks the settings once at start so that prepare() cannot fail on them.
 * Returns every problem; the messages never quote a secret.
 */
export function checkAuthSettings(s: AuthSettings): IntegrationError | undefined {
  const details: { field: string; reason: string; value?: unknown }[] = [];
  if (!AUTH_TYPES.includes(s.type)) {
    details.push({
      field: 'authType',
      reason: 'expected none, apikey, basic, bearer or oauth2',
      value: String(s.type),
    });
  } else if (s.type === 'apikey') {
    if (s.apiKeyIn !== 'header' && s.apiKeyIn !== 'query') {
      details.push({ field: 'apiKeyIn', reason: 'expected header or query', value: String(s.apiKeyIn) });
    }
    const name = s.apiKeyName ?? '';
    if (s.apiKeyIn === 'query' ? name.trim() === '' : !isValidHeaderName(name)) {
      details.push({
        field: 'apiKeyName',
        reason: s.apiKeyIn === 'query' ? 'a parameter name is required' : 'not a valid header name',
        value: name,
      });
    }
  }
  // the credentials of the chosen type (lib/rules/settings.ts, as the dialog checks them)
  const reasons: Record<string, Record<string, string>> = {
    apiKey: { required: 'the API key is required', lineBreak: 'the API key contains a line break' },
    username: { required: 'the user name is required', colon: 'a Basic user name cannot contain ":"' },
    token: { required: 'the token is required', lineBreak: 'the token contains a line break' },
  };
  for (const field of ['apiKey', 'username', 'token'] as const) {
    const problem = authCredentialProblem(s.type, field, s[field]);
    if (problem) details.push({ field, reason: reasons[field][problem] });
  }
  if (!details.length) return undefined;
  return new IntegrationError(
    'INVALID_CONFIG',
    `Authentication settings are incomplete: ${details.map((d) => `${d.field} (${d.reason})`).join('; ')}`,
    details,
  );
}

/**
 * Applies authentication. For oauth2 pass the current access token. The
 * headers returned are the auth layer only; merge them last.
 */
export function applyAuth(s: AuthSettings, url: string, accessToken?: string): AuthResult {
  switch (s.type) {
    case 'apikey':
      if (s.apiKeyIn === 'query') return { headers: {}, url: setQueryParam(url, s.apiKeyName || '', s.apiKey || '') };
      return { headers: { [s.apiKeyName || 'X-API-Key']: s.apiKey || '' }, url };
    case 'basic':
      return { headers: { Authorization: basicAuthorization(s.username || '', s.password || '') }, url };
    case 'bearer':
      return { headers: { Authorization: `Bearer ${s.token || ''}` }, url };
    case 'oauth2':
      if (!accessToken) throw new IntegrationError('OAUTH2_TOKEN', 'No OAuth2 access token is available');
      return { headers: { Authorization: `Bearer ${accessToken}` }, url };
    default:
      return { headers: {}, url };
  }
}

/**
 * Merges header layers; a later layer replaces an earlier header of the same
 * name whatever its case, and its spelling of the name is kept. Undefined and
 * null values are skipped; other values become strings. Invalid names or
 * values (CR/LF) are rejected with every problem listed.
 */
export function mergeHeaderLayers(
  ...layers: Array<Record<string, unknown> | undefined | null>
): Record<string, string> {
  const out: Record<string, string> = {};
  const nameOf: Record<string, string> = {};
  const details: { field: string; reason: string }[] = [];
  for (const layer of layers) {
    if (!layer || typeof layer !== 'object') continue;
    for (const name of Object.keys(layer)) {
      const raw = layer[name];
      if (raw === undefined || raw === null) continue;
      if (!isValidHeaderName(name)) {
        details.push({ field: name, reason: 'not a valid header name' });
        continue;
      }
      const value = Array.isArray(raw) ? raw.map(String).join(', ') : String(raw);
      if (!isValidHeaderValue(value)) {
        details.push({ field: name, reason: 'the value contains a line break' });
        continue;
      }
      const lower = name.toLowerCase();
      const previous = nameOf[lower];
      if (previous !== undefined) delete out[previous];
      nameOf[lower] = name;
      out[name] = value;
    }
  }
  if (details.length) {
    throw new IntegrationError(
      'INVALID_HEADERS',
      `Invalid request headers: ${details.map((d) => `${d.field} (${d.reason})`).join('; ')}`,
      details,
    );
  }
  return out;
}
