/**
 * The endpoint's URLs (base URL, OAuth2 token URL): absolute http:// or
 * https:// with a host. A text holding a `${VAR}` placeholder is checked once
 * the variables are substituted (when the flow starts).
 */
import { hasEnvPlaceholder } from './env';

export type UrlProblem = 'required' | 'scheme' | 'invalid';

/** Why `text` (already substituted) is not an absolute http(s) URL, or undefined when it is one. */
export function httpUrlProblem(text: unknown): UrlProblem | undefined {
  const t = typeof text === 'string' ? text.trim() : '';
  if (t === '') return 'required';
  if (!/^https?:\/\/[^\s/?#]+/i.test(t)) return 'scheme';
  try {
    new URL(t);
  } catch {
    return 'invalid';
  }
  return undefined;
}

/** The same for a setting as the dialog holds it: a text with a placeholder waits for the start. */
export function httpUrlSettingProblem(text: unknown): UrlProblem | undefined {
  const t = typeof text === 'string' ? text.trim() : '';
  if (t !== '' && hasEnvPlaceholder(t)) return undefined;
  return httpUrlProblem(t);
}
