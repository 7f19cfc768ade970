/**
 * The error shape every node puts on `msg.error` when it routes a message to
 * its error output: why it failed, every problem at once, never a secret.
 */
export interface ErrorDetail {
  /** the field, key or path the problem is about (when there is one) */
  field?: string;
  /** the rule, option or step that found the problem (e.g. "rule 3", "csv") */
  rule?: string;
  /** a short plain-English reason */
  reason: string;
  /** the offending value, when it is safe to show */
  value?: unknown;
}

export interface IntegrationErrorInfo {
  code: string;
  message: string;
  details: ErrorDetail[];
}

/** An Error that carries a machine-readable code and a list of details. */
export class IntegrationError extends Error implements IntegrationErrorInfo {
  readonly code: string;
  readonly details: ErrorDetail[];
  /** true when trying again later may succeed (a network error, a 5xx from a token endpoint …) */
  readonly retryable: boolean;

  constructor(code: string, message: string, details: ErrorDetail[] = [], options: { retryable?: boolean } = {}) {
    super(message);
    this.name = 'IntegrationError';
    this.code = code;
    this.details = details;
    this.retryable = options.retryable === true;
  }

  /** The plain object that goes on `msg.error`. */
  toJSON(): IntegrationErrorInfo {
    return { code: this.code, message: this.message, details: this.details.map((d) => ({ ...d })) };
  }
}

/** Turns anything thrown into the `msg.error` shape. */
export function toErrorInfo(err: unknown, fallbackCode = 'ERROR'): IntegrationErrorInfo {
  if (err instanceof IntegrationError) return err.toJSON();
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : fallbackCode, message: err.message, details: [] };
  }
  return { code: fallbackCode, message: String(err), details: [] };
}
