/**
 * What a JetStream API error means for the shared queue (codes from
 * nats-server's errors.json), and creating a stream that may exist already.
 */
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';

/** the JetStream API error code, when there is one */
export function errCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; api_error?: { err_code?: number } };
  if (typeof e?.api_error?.err_code === 'number') return e.api_error.err_code;
  return typeof e?.code === 'number' ? e.code : undefined;
}

export function isFull(err: unknown): boolean {
  const c = errCode(err);
  return (
    c === 10077 ||
    c === 10078 ||
    /maximum (messages|bytes)( per subject)? exceeded/i.test(String((err as Error)?.message))
  );
}

export function isTooLarge(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    errCode(err) === 10054 || /payload|message size exceeds|max_payload/i.test(String(e?.message ?? e?.code ?? ''))
  );
}

/** the subject already holds its one message (a stream with discard new per subject) */
export function isTaken(err: unknown): boolean {
  return (
    (errCode(err) === 10077 && /per subject/i.test(String((err as Error)?.message))) ||
    /maximum messages per subject exceeded/i.test(String((err as Error)?.message ?? ''))
  );
}

/** Creates the stream, or brings an existing one to these settings (a refusal is a warning: it keeps its own). */
export async function ensureStream(
  jsm: JetStreamManager,
  cfg: Partial<StreamConfig> & { name: string },
  warn: (text: string) => void,
): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
  } catch {
    try {
      await jsm.streams.add(cfg);
      return;
    } catch (err) {
      if (!/already in use/i.test(String((err as Error)?.message))) throw err;
    }
  }
  try {
    await jsm.streams.update(cfg.name, cfg);
  } catch (err) {
    warn(
      `shared queue: the settings of stream ${cfg.name} could not be updated (${(err as Error)?.message ?? err}); it keeps its settings`,
    );
  }
}
