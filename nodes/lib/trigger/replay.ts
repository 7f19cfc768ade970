/**
 * Replay protection for Standard Webhooks: a validly signed request stays
 * valid for the whole signature tolerance (its timestamp may be up to the
 * tolerance in the past or in the future), so its `webhook-id` is remembered
 * for twice the tolerance plus a minute, whatever the node's dedupe window.
 * A request whose webhook-id was already answered 2xx is acknowledged as a
 * duplicate (202) and not delivered again: a sender's retry of a delivered
 * message stops, and an attacker's replay does nothing.
 */
import { DedupeCache } from '../dedupe';
import { DEFAULT_TOLERANCE_SECONDS } from '../webhook-signature';

/** the most webhook ids remembered at once (about 100 bytes each) */
export const MAX_REMEMBERED_WEBHOOK_IDS = 100000;

export function replayWindowSeconds(toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): number {
  return 2 * toleranceSeconds + 60;
}

export class ReplayMemory {
  private readonly cache: DedupeCache;

  constructor(options: { toleranceSeconds?: number; now?: () => number; maxEntries?: number } = {}) {
    this.cache = new DedupeCache({
      windowMs: replayWindowSeconds(options.toleranceSeconds) * 1000,
      maxEntries: options.maxEntries ?? MAX_REMEMBERED_WEBHOOK_IDS,
      now: options.now,
    });
  }

  get windowMs(): number {
    return this.cache.windowMs;
  }

  /** true when this webhook-id was already answered 2xx within the window */
  seen(webhookId: string): boolean {
    return this.cache.has(webhookId);
  }

  /** Records a webhook-id once its request was answered 2xx. */
  remember(webhookId: string): void {
    this.cache.check(webhookId);
  }

  clear(): void {
    this.cache.clear();
  }
}

const SHARED = Symbol.for('saypro.integration-kit.webhook-replays');
const shared: Map<string, ReplayMemory> =
  ((globalThis as Record<symbol, unknown>)[SHARED] as Map<string, ReplayMemory> | undefined) ??
  (((globalThis as Record<symbol, unknown>)[SHARED] = new Map<string, ReplayMemory>()) as Map<string, ReplayMemory>);

/**
 * The replay memory of a path, shared by the nodes that serve it one after
 * the other: a redeploy does not open a window for replays.
 */
export function replayMemoryFor(key: string): ReplayMemory {
  let memory = shared.get(key);
  if (!memory) shared.set(key, (memory = new ReplayMemory()));
  return memory;
}
