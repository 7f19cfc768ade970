/**
 * What the outbox accepts from its callers: the checks on the arguments of
 * `open()`, `enqueue()` and `recordAttempt()`, each failing with
 * OUTBOX_BAD_ARGUMENT and the field at fault. No state, no I/O.
 */
import { IntegrationError } from '../errors';
import { isObj } from './item';
import { MAX_ID_LENGTH, type EnqueueInput } from './outbox-types';

/** A finite number, else OUTBOX_BAD_ARGUMENT naming the field. */
export function finite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new IntegrationError('OUTBOX_BAD_ARGUMENT', `${name} must be a finite number`, [
      { field: name, reason: 'not a finite number', value: v },
    ]);
  }
  return v;
}

export function closedError(): Error {
  return new IntegrationError('OUTBOX_CLOSED', 'the outbox is closed');
}

/** The policy when the outbox is full; undefined means 'refuse'. */
export function fullPolicyOf(value: unknown): 'refuse' | 'dead-letter-oldest' {
  if (value === undefined || value === 'refuse') return 'refuse';
  if (value === 'dead-letter-oldest') return value;
  throw new IntegrationError('OUTBOX_BAD_ARGUMENT', `fullPolicy must be 'refuse' or 'dead-letter-oldest'`);
}

/** An enqueue's id, ordering key and times, checked; `now` is the clock's when the input has none. */
export function enqueueInput(
  input: EnqueueInput,
  clock: () => number,
): { id: string; key: string | undefined; now: number; next: number } {
  if (!isObj(input)) throw new IntegrationError('OUTBOX_BAD_ARGUMENT', 'enqueue needs {id, data}');
  const id = input.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new IntegrationError(
      'OUTBOX_BAD_ARGUMENT',
      `id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
      [
        {
          field: 'id',
          reason: 'not a non-empty string',
          value: typeof id === 'string' ? id.slice(0, 64) : typeof id,
        },
      ],
    );
  }
  const key = input.orderingKey;
  if (key !== undefined && key !== null && typeof key !== 'string') {
    throw new IntegrationError('OUTBOX_BAD_ARGUMENT', 'orderingKey must be a string', [
      { field: 'orderingKey', reason: 'not a string' },
    ]);
  }
  const now = input.now === undefined ? clock() : finite(input.now, 'now');
  const next = input.nextAttemptAt === undefined ? now : finite(input.nextAttemptAt, 'nextAttemptAt');
  return { id, key: typeof key === 'string' ? key : undefined, now, next };
}

/** An item's data as JSON text and its size in bytes. */
export function dataJson(data: unknown): { json: string; bytes: number } {
  const json = JSON.stringify(data === undefined ? null : data);
  if (json === undefined) throw new IntegrationError('OUTBOX_BAD_ARGUMENT', 'data is not JSON-serialisable');
  return { json, bytes: Buffer.byteLength(json, 'utf8') };
}
