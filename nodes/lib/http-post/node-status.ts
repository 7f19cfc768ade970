/**
 * The HTTP POST node's status as shown, kept current: what the board
 * remembers joined with what is live (the queue's brief, the deliveries in
 * flight, the endpoint's pacing), composed and translated (status.ts), set
 * only when it changed and shown again while a queued message's age ticks
 * (status-refresh.ts). No Node-RED here: `set` is the node's status().
 */
import { msUntilAgeChanges } from '../outbox/age';
import { StatusRefresher } from './status-refresh';
import { countedAttempts, type DeliveryState } from '../http/delivery-state';
import { composeStatus, pacingFactsOf, renderStatus, StatusBoard, type StatusFacts } from './status';

type Rendered = ReturnType<typeof renderStatus>;

export interface LiveStatus {
  durable: boolean;
  /** the node's first settings problem */
  problem: StatusFacts['problem'];
  /** 0 = no limit */
  maxDeadLetters: number;
  /** durable mode: the open queue's brief (undefined: not open) */
  queue: () => { depth: number; oldestAgeMs: number; sending: number } | undefined;
  /** in-memory mode: the deliveries in flight */
  inFlight: () => DeliveryState[];
  /** the endpoint pacer's state (a throw counts as none) */
  pacing: () => Parameters<typeof pacingFactsOf>[0];
  translate: (key: string, vars?: Record<string, string | number>) => string;
  set: (status: Rendered) => void;
  now?: () => number;
}

/**
 * `board`: what the node remembers (it tells it what happens); `show()`
 * shows the status now (bound), `current()` is it without showing, `stop()`
 * ends showing (close).
 */
export function liveStatus(o: LiveStatus) {
  const now = o.now ?? Date.now;
  // the attempt a waiting delivery is at: the next one
  const nextAttempt = (d: DeliveryState) => countedAttempts(d) + 1;
  const board = new StatusBoard<DeliveryState>({
    durable: o.durable,
    problem: o.problem,
    maxDeadLetters: o.maxDeadLetters,
    nextAttempt,
  });
  const pacer = () => {
    try {
      return o.pacing();
    } catch {
      return undefined;
    }
  };
  const current = (): Rendered => {
    const facts = board.facts({ queue: o.queue(), inFlight: o.inFlight(), pacing: pacingFactsOf(pacer(), now()) });
    return renderStatus(composeStatus(facts), o.translate);
  };
  const refresher = new StatusRefresher({
    compute: current,
    set: o.set,
    // the age shown changes once a minute (an hour, a day): refresh then, only while something is queued
    changesIn: () => {
      const brief = o.queue();
      return brief?.depth ? msUntilAgeChanges(brief.oldestAgeMs) + 50 : undefined;
    },
  });
  return { board, current, show: refresher.show, stop: () => refresher.stop() };
}
