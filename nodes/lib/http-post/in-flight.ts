/**
 * The HTTP POST node's in-memory deliveries in flight. Each is held with its
 * state while it runs (the status counts them and shows the retry they wait
 * for), and ends with the outcome of what it sent on (shown until the next).
 * A close cancels them all (`signal`) and waits for them. No Node-RED here.
 */
import { outcomeOf, type Outcome } from './status';
import { ShortList } from '../short-lived';

export class InFlight<S> {
  private readonly jobs = new ShortList<{ finished: Promise<void>; state: S }>();
  private readonly closed = new AbortController();
  /** aborts at the close: every delivery stops (its retry wait, its request) */
  readonly signal = this.closed.signal;

  /** how many run now */
  get size(): number {
    return this.jobs.size;
  }

  /** their states, oldest first */
  states(): S[] {
    return this.jobs.values().map((j) => j.state);
  }

  /**
   * Runs `job`, handing it a `send` that notes the outcome of what it sends;
   * once the job settled, `ended` gets that outcome (undefined: it sent nothing).
   */
  run<O>(
    state: S,
    send: (out: O) => void,
    job: (send: (out: O) => void) => Promise<void>,
    ended: (outcome: Outcome | undefined) => void,
  ): Promise<void> {
    let outcome: Outcome | undefined;
    const noted = (out: O) => ((outcome = outcomeOf(out)), send(out));
    const finished = job(noted).finally(() => (this.jobs.delete(id), ended(outcome)));
    const id = this.jobs.add({ finished, state });
    return finished;
  }

  /** resolves once every delivery now in flight has ended, however it ended */
  async settled(): Promise<void> {
    await Promise.allSettled(this.jobs.values().map((j) => j.finished));
  }

  /** aborts `signal`, then waits for every delivery in flight to end */
  cancel(): Promise<void> {
    this.closed.abort();
    return this.settled();
  }
}
