/**
 * Where the durable queues live, and each node's queue directory name: used
 * by the HTTP POST node at start without loading the outbox itself. No I/O.
 */
import * as path from 'path';

/** The directory name of a node's queue (ids are hex, but a subflow instance's may hold other characters). */
export function queueDirName(nodeId: string): string {
  return nodeId.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Where the queues live: `sayproOutboxDir`, else `<userDir>/saypro-outbox`; undefined when neither is set. */
export function outboxRoot(settings: { sayproOutboxDir?: unknown; userDir?: unknown }): string | undefined {
  if (typeof settings.sayproOutboxDir === 'string' && settings.sayproOutboxDir.trim() !== '')
    return settings.sayproOutboxDir;
  if (typeof settings.userDir === 'string' && settings.userDir.trim() !== '')
    return path.join(settings.userDir, 'saypro-outbox');
  return undefined;
}
