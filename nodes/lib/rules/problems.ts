/**
 * How a list of problems reads in one line: "where: reason; where: reason".
 * `where` is the field, the rule (e.g. "rule 2") or both; values are never
 * quoted here (they may be secrets).
 */

export interface ProblemLike {
  field?: string;
  rule?: string;
  reason: string;
}

/**
 * "field (rule n): reason; …" — or with `lead: 'rule'`, "rule n (field): reason"
 * (the response check, whose rules are what the user numbers).
 */
export function listProblems(problems: readonly ProblemLike[], lead: 'field' | 'rule' = 'field'): string {
  return problems.map((p) => where(p, lead) + p.reason).join('; ');
}

function where(p: ProblemLike, lead: 'field' | 'rule'): string {
  const hasField = p.field !== undefined && p.field !== '';
  const hasRule = p.rule !== undefined && p.rule !== '';
  if (hasField && hasRule) return lead === 'field' ? `${p.field} (${p.rule}): ` : `${p.rule} (${p.field}): `;
  if (hasField) return `${p.field}: `;
  if (hasRule) return `${p.rule}: `;
  return '';
}
