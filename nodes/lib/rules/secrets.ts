/** Names that announce a secret: their values never appear in error details, previews or logs. */

/**
 * A target, source, path or header whose name matches this is treated as
 * secret: its value never appears in error details.
 */
export const SECRET_NAME =
  /pass|pwd|secret|token|key|auth|card|cvv|cvc|ssn|iban|signature|credential|private|session|cookie|pin$/i;

/** Whether values for any of these names may not be shown. */
export function looksSecret(...names: Array<string | undefined>): boolean {
  return names.some((name) => typeof name === 'string' && SECRET_NAME.test(name));
}
