/**
 * Dead letters of shared mode, kept in a JetStream limits stream
 * (SAYPRO_DEAD_<node>), one message per entry on a subject per event id, so
 * that any instance can list, replay and purge them. Entry = JSON of
 * DeadLetterRecord; the data is the StoredItem the work stream carried.
 * Not here: what goes back into the work stream on replay (the queue's
 * subject and dedupe id, shared-queue.ts), moving a message here (worker.ts).
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import type { AttemptRecord, DeadLetterCounts, DeadLetterSummary } from '../outbox/dead-letter';
import { isFull } from './jetstream-errors';
import type { QueueNames } from './names';

/** Publishes an entry's data to the work stream again; resolves true when JetStream had it already. */
export type Requeue = (data: unknown, dedupeId: string) => Promise<boolean>;

export interface ReplayOutcome {
  requeued: string[];
  duplicate: string[];
  full: string[];
}

export interface DeadLetterRecord {
  id: string;
  /** the message id it had in the work stream */
  msgId: string;
  data: unknown;
  error: { code: string; message: string; details: unknown[] };
  attempts: number;
  history: AttemptRecord[];
  deadAt: number;
  orderingKey?: string;
  createdAt?: number;
}

/** the longest walk through the stream for one listing */
const MAX_WALK = 100_000;

export class SharedDeadLetters {
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly names: QueueNames;
  private cached: DeadLetterCounts = { total: 0, bytes: 0, byCode: {}, dropped: 0 };

  constructor(js: JetStreamClient, jsm: JetStreamManager, names: QueueNames) {
    this.js = js;
    this.jsm = jsm;
    this.names = names;
  }

  /** creates or updates the stream; maxEntries 0: no limit */
  static config(names: QueueNames, replicas: number, maxEntries: number) {
    return {
      name: names.deadStream,
      subjects: [names.deadAll],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      max_msgs: maxEntries > 0 ? maxEntries : -1,
      duplicate_window: 120_000_000_000,
    };
  }

  /** Stores an entry; resolves once JetStream acknowledged it (the work message may then be acked). */
  async put(rec: DeadLetterRecord, dedupeId: string): Promise<void> {
    const h = natsHeaders();
    h.set('Saypro-Error-Code', rec.error.code);
    await this.js.publish(this.names.deadSubject(rec.id), JSON.stringify(rec), { msgID: dedupeId, headers: h });
  }

  /** what the status and the monitor show; refreshed by refresh() */
  counts(): DeadLetterCounts {
    return { ...this.cached, byCode: { ...this.cached.byCode } };
  }

  async refresh(): Promise<DeadLetterCounts> {
    const info = await this.jsm.streams.info(this.names.deadStream);
    this.cached = { ...this.cached, total: info.state.messages, bytes: info.state.bytes };
    return this.counts();
  }

  /** Walks the entries (oldest first), all or those of the given event ids. */
  async *entries(ids: string[] | 'all'): AsyncGenerator<{ seq: number; rec: DeadLetterRecord; bytes: number }> {
    const subjects = ids === 'all' ? [this.names.deadAll] : [...new Set(ids)].map((id) => this.names.deadSubject(id));
    for (const subject of subjects) {
      let seq = 1;
      for (let n = 0; n < MAX_WALK; n++) {
        let sm: StoredMsg | null;
        try {
          sm = await this.jsm.streams.getMessage(this.names.deadStream, { seq, next_by_subj: subject } as never);
        } catch (err) {
          if (/no message found/i.test(String((err as Error)?.message))) break;
          throw err;
        }
        if (!sm) break;
        seq = sm.seq + 1;
        let rec: DeadLetterRecord;
        try {
          rec = JSON.parse(Buffer.from(sm.data).toString('utf8')) as DeadLetterRecord;
        } catch {
          continue;
        }
        if (ids !== 'all' && !ids.includes(rec.id)) continue; // another id with the same hash prefix
        yield { seq: sm.seq, rec, bytes: sm.data.length };
      }
    }
  }

  /** newest first, like the journal's store */
  async list(limit: number, offset: number): Promise<{ counts: DeadLetterCounts; items: DeadLetterSummary[] }> {
    const all: DeadLetterSummary[] = [];
    const byCode: Record<string, number> = {};
    let bytes = 0;
    let oldest: number | undefined;
    let newest: number | undefined;
    for await (const { rec, bytes: b } of this.entries('all')) {
      const s: DeadLetterSummary = {
        id: rec.id,
        error: rec.error,
        attempts: rec.attempts,
        history: rec.history ?? [],
        deadAt: rec.deadAt,
        bytes: b,
      };
      if (rec.orderingKey !== undefined) s.orderingKey = rec.orderingKey;
      if (rec.createdAt !== undefined) s.createdAt = rec.createdAt;
      all.push(s);
      byCode[rec.error.code] = (byCode[rec.error.code] ?? 0) + 1;
      bytes += b;
      oldest = oldest === undefined ? rec.deadAt : Math.min(oldest, rec.deadAt);
      newest = newest === undefined ? rec.deadAt : Math.max(newest, rec.deadAt);
    }
    this.cached = {
      total: all.length,
      bytes,
      byCode,
      dropped: 0,
      ...(oldest !== undefined ? { oldestDeadAt: oldest, newestDeadAt: newest } : {}),
    };
    all.reverse();
    return { counts: this.counts(), items: all.slice(offset, offset + limit) };
  }

  async remove(seq: number): Promise<void> {
    await this.jsm.streams.deleteMessage(this.names.deadStream, seq, false);
  }

  /** Deletes for good; returns how many. */
  async purge(ids: string[] | 'all'): Promise<number> {
    if (ids === 'all') {
      const r = await this.jsm.streams.purge(this.names.deadStream);
      await this.refresh().catch(() => undefined);
      return r.purged;
    }
    let n = 0;
    for await (const { seq } of this.entries(ids)) {
      await this.remove(seq);
      n++;
    }
    await this.refresh().catch(() => undefined);
    return n;
  }

  /**
   * Queues entries again through `requeue` (dedupe id: the work message id and
   * the entry's sequence); an entry leaves the dead letters once the work
   * stream has it again. One event, one replay: a second entry of the same id
   * (two instances moved a redelivered message) is only removed. A full work
   * stream leaves the entry here; any other failure stops the replay.
   */
  async replay(ids: string[] | 'all', requeue: Requeue): Promise<ReplayOutcome> {
    const out: ReplayOutcome = { requeued: [], duplicate: [], full: [] };
    const seen = new Set<string>();
    for await (const { seq, rec } of this.entries(ids)) {
      if (seen.has(rec.id)) {
        await this.remove(seq);
        continue;
      }
      seen.add(rec.id);
      try {
        if (await requeue(rec.data, `${rec.msgId}~replay${seq}`)) out.duplicate.push(rec.id);
        else out.requeued.push(rec.id);
        await this.remove(seq);
      } catch (err) {
        if (isFull(err)) out.full.push(rec.id);
        else throw err;
      }
    }
    await this.refresh().catch(() => undefined);
    return out;
  }
}
