/**
 * Whether Node-RED writes debug lines anywhere. `node.debug()` costs even
 * when nothing is written (Node-RED builds a log record and an Error for its
 * stack, and hands it to every log handler, which then drops it), so a line
 * per delivery attempt is built only when some handler logs at debug or trace.
 * Read once when a node starts: Node-RED reads its logging settings at start.
 */
export function logsDebug(settings: unknown): boolean {
  let logging: unknown;
  try {
    logging = (settings as { logging?: unknown } | undefined)?.logging;
  } catch {
    return true; // a settings object that refuses the question: leave it to Node-RED
  }
  // not configured (as under the test helper): log, as before, and let Node-RED decide
  if (!logging || typeof logging !== 'object') return true;
  for (const handler of Object.values(logging as Record<string, unknown>)) {
    const level = (handler as { level?: unknown } | null)?.level;
    if (level === 'debug' || level === 'trace') return true;
  }
  return false;
}
