/**
 * Queues left behind by HTTP POST nodes that no longer exist (deleted from
 * the flows, or a flow imported again with new node ids): each node's durable
 * queue is a directory `<root>/<node id>`, and deleting the node leaves it on
 * disk. This module finds them, says what they hold, and deletes one or hands
 * its pending messages and dead letters over to a deployed node's queue.
 *
 *   root/                 sayproOutboxDir, or <user directory>/saypro-outbox
 *     <node id>/          one queue (journal, dead-letter/, counters.json)
 *
 * Every step holds the queue directory's lock (lock.ts), so a queue that a
 * process still uses is never touched. No Node-RED import.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { Outbox } from './outbox';
import { DirLock, LockedError } from './lock';
import type { DeadLetterEntry } from './dead-letter-entry';
import type { RecordCipher } from './cipher';

export { outboxRoot, queueDirName } from './queue-dir';

export interface OrphanQueue {
  /** the directory name (the deleted node's id) */
  name: string;
  /** pending messages; null when they could not be counted (see problem) */
  pending: number | null;
  deadLetters: number | null;
  /** bytes on disk */
  bytes: number;
  /** last change (ms since the epoch) */
  modifiedAt: number;
  /** why it could not be read, in plain words (e.g. encrypted with a key this process does not have) */
  problem?: string;
}

/** A queue that takes the orphan's messages over (durable.ts). */
export interface AdoptingQueue {
  /** the cipher of the taking queue: an encrypted orphan opens only with the same key */
  readonly recordCipher: RecordCipher | undefined;
  /** queues one message with its id (the idempotency key), ordering key, data and first-queued time */
  adopt(item: { id: string; orderingKey?: string; data: unknown; createdAt: number }): Promise<'queued' | 'duplicate'>;
  /** keeps one dead letter as it is */
  adoptDeadLetter(entry: DeadLetterEntry): Promise<void>;
}

export interface HandOverResult {
  moved: number;
  duplicates: number;
  deadLetters: number;
}

const NAME = /^[A-Za-z0-9._-]+$/;

async function duSize(dir: string): Promise<{ bytes: number; modifiedAt: number }> {
  let bytes = 0;
  let modifiedAt = 0;
  const walk = async (d: string) => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await fsp.stat(p);
        bytes += st.size;
        modifiedAt = Math.max(modifiedAt, st.mtimeMs);
      }
    }
  };
  await walk(dir);
  return { bytes, modifiedAt: Math.round(modifiedAt) };
}

function problemOf(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'EOUTBOXLOCKED') return 'in use by another process';
  if (/encrypted/.test(String(e?.message))) return 'encrypted: the key of the deleted node is needed to read it';
  return String(e?.message ?? err);
}

/** Opens a queue directory (with its dead letters) for reading or moving; the outbox holds the lock while open. */
function openQueue(dir: string, cipher: RecordCipher | undefined): Promise<Outbox> {
  return Outbox.open(dir, { cipher });
}

/**
 * The queue directories under `root` that belong to no node in `liveNames`
 * (the directory names of every HTTP POST node in the flows, deployed or not).
 */
export async function listOrphans(root: string, liveNames: ReadonlySet<string>): Promise<OrphanQueue[]> {
  let entries;
  try {
    entries = await fsp.readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: OrphanQueue[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !NAME.test(e.name) || liveNames.has(e.name)) continue;
    const dir = path.join(root, e.name);
    const size = await duSize(dir).catch(() => ({ bytes: 0, modifiedAt: 0 }));
    const o: OrphanQueue = { name: e.name, pending: null, deadLetters: null, ...size };
    try {
      const ob = await openQueue(dir, undefined);
      try {
        o.pending = ob.size;
        o.deadLetters = ob.deadLetter.counts().total;
      } finally {
        await ob.close();
      }
    } catch (err) {
      o.problem = problemOf(err);
    }
    out.push(o);
  }
  return out.sort((a, b) => b.modifiedAt - a.modifiedAt);
}

function orphanDir(root: string, name: string, liveNames: ReadonlySet<string>): string {
  if (!NAME.test(name) || name === '.' || name === '..')
    throw Object.assign(new Error('not a queue name'), { code: 'BAD_REQUEST' });
  if (liveNames.has(name))
    throw Object.assign(new Error('this queue belongs to a node in the flows'), { code: 'IN_USE' });
  return path.join(root, name);
}

/** Deletes an orphaned queue with everything in it (refused while a process holds it). */
export async function deleteOrphan(root: string, name: string, liveNames: ReadonlySet<string>): Promise<void> {
  const dir = orphanDir(root, name, liveNames);
  await fsp.stat(dir); // ENOENT: nothing to delete
  const lock = await DirLock.acquire(dir, {});
  try {
    for (const e of await fsp.readdir(dir)) if (e !== 'LOCK') await fsp.rm(path.join(dir, e), { recursive: true });
  } finally {
    await lock.release();
  }
  await fsp.rm(dir, { recursive: true, force: true });
}

/**
 * Moves an orphaned queue's pending messages (same id, so the same
 * idempotency key; same ordering key and first-queued time) and its dead
 * letters into `to`, then deletes the orphan. A message is removed from the
 * orphan only once `to` has it, so an interruption leaves nothing lost (at
 * worst a message is in both, and the id makes the second a duplicate).
 */
export async function handOver(
  root: string,
  name: string,
  liveNames: ReadonlySet<string>,
  to: AdoptingQueue,
): Promise<HandOverResult> {
  const dir = orphanDir(root, name, liveNames);
  await fsp.stat(dir);
  const ob = await openQueue(dir, to.recordCipher);
  const result: HandOverResult = { moved: 0, duplicates: 0, deadLetters: 0 };
  try {
    for (const item of ob.list({ limit: Number.MAX_SAFE_INTEGER })) {
      const data = await ob.load(item.id);
      const r = await to.adopt({ id: item.id, orderingKey: item.orderingKey, data, createdAt: item.createdAt });
      if (r === 'queued') result.moved++;
      else result.duplicates++;
      await ob.complete(item.id);
    }
    const dl = ob.deadLetter;
    for (const s of dl.list({ limit: Number.MAX_SAFE_INTEGER, order: 'oldest' })) {
      const entry = await dl.get(s.id);
      if (!entry) continue;
      await to.adoptDeadLetter(entry);
      await dl.purge([s.id]);
      result.deadLetters++;
    }
  } finally {
    await ob.close();
  }
  await deleteOrphan(root, name, liveNames);
  return result;
}

export { LockedError };
