/**
 * The durable outbox and the dead-letter store (pure library; no Node-RED).
 * See docs/outbox.md for the on-disk format and the guarantees.
 */
export { Outbox, DEFAULT_MAX_ITEMS, DEFAULT_MAX_BYTES } from './outbox';
export type {
  OutboxOptions,
  OutboxStats,
  EnqueueInput,
  EnqueueResult,
  FullReason,
  PendingItem,
  AttemptUpdate,
  LastError,
} from './outbox';
export { DeadLetterStore } from './dead-letter';
export type {
  DeadLetterOptions,
  DeadLetterInput,
  DeadLetterEntry,
  DeadLetterSummary,
  DeadLetterCounts,
  DeadLetterError,
  AttemptRecord,
  ListOptions,
} from './dead-letter';
export { Journal, SegmentLedger, DEFAULT_SEGMENT_SIZE, segmentFileName } from './journal';
export type { JournalOptions, JournalRecord, JournalWarning, RecordPos, WarnFn } from './journal';
export { crc32, crc32Table, nativeCrc32 } from './crc32';
export { RecordCipher } from './cipher';
export { DirLock, LockedError, LOCK_FILE } from './lock';
export type { LockOptions, LockOwner } from './lock';
export type { LossReport } from './losses';
