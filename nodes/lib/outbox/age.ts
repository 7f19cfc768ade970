/** How the HTTP POST node's status shows the age of the oldest queued message. */

/** "3m", "2h", "4d"; "<1m" under a minute. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return '<1m';
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** ms until formatAge(ms) shows something else. */
export function msUntilAgeChanges(ms: number): number {
  const unit = ms < 3600000 ? 60000 : ms < 48 * 3600000 ? 3600000 : 86400000;
  return unit - (Math.max(0, ms) % unit);
}
