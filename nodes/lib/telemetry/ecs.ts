/**
 * The audit log's records: one JSON object per event in Elastic Common Schema
 * (ECS) field names, nested as ECS documents are (`event.action` is
 * `{"event":{"action":…}}`), so that Filebeat, Elastic Agent, the Datadog
 * Agent or Loki read them without a mapping of their own.
 *
 *   @timestamp                 ISO 8601 time of the event
 *   message                    one readable line
 *   event.kind                 "event"
 *   event.category             ["web"] (requests) or ["network"]
 *   event.dataset              saypro.delivery | saypro.events | saypro.api_version
 *   event.action               delivery-attempt | delivery-finished | event-received | api-deprecation
 *   event.outcome              success | failure | unknown (ECS values)
 *   event.reason               our own outcome (retry, delivered, dead_lettered, duplicate …)
 *   event.id                   the event id (= idempotency key) when known
 *   event.duration             nanoseconds (ECS)
 *   http.request.method        POST …
 *   http.response.status_code  the status of the answer
 *   url.full                   the URL with secrets removed
 *   error.code / error.message why it failed
 *   labels.endpoint / labels.node / labels.trigger / labels.event_type / labels.attempt …
 *   service.type               "node-red"
 *   ecs.version                "8.11.0"
 *
 * Every text that can hold a secret goes through `scrub` before it is written.
 * No Node-RED import.
 */
import type { TelemetryEvent } from './bus';

export const ECS_VERSION = '8.11.0';

export type Scrub = (text: string) => string;

function ns(ms: number): number {
  return Math.max(0, Math.round(ms * 1e6));
}

function ecsOutcome(result: string): 'success' | 'failure' | 'unknown' {
  if (
    result === 'success' ||
    result === 'delivered' ||
    result === 'accepted' ||
    result === 'ignored' ||
    result === 'duplicate'
  )
    return 'success';
  if (result === 'cancelled') return 'unknown';
  return 'failure';
}

/** The ECS record for a telemetry event; undefined for events the audit log leaves out. */
export function toEcs(e: TelemetryEvent, scrub: Scrub = (t) => t): Record<string, unknown> | undefined {
  const base = (dataset: string, action: string, outcome: string, reason: string) => ({
    '@timestamp': new Date(e.at).toISOString(),
    message: '',
    event: { kind: 'event', category: ['web'], dataset, action, outcome, reason } as Record<string, unknown>,
    labels: {} as Record<string, unknown>,
    service: { type: 'node-red' },
    ecs: { version: ECS_VERSION },
  });
  switch (e.kind) {
    case 'attempt': {
      const r = base('saypro.delivery', 'delivery-attempt', ecsOutcome(e.result), e.result);
      if (e.eventId) r.event.id = scrub(e.eventId);
      r.event.duration = ns(e.durationMs);
      const rec: Record<string, unknown> = r;
      const url = scrub(e.url);
      rec.http = {
        request: { method: e.method },
        ...(e.status !== undefined ? { response: { status_code: e.status } } : {}),
      };
      rec.url = { full: url };
      if (e.errorCode)
        rec.error = {
          code: e.errorCode,
          message:
            e.status !== undefined ? `the server answered ${e.status}` : `the request failed with ${e.errorCode}`,
        };
      Object.assign(r.labels, {
        endpoint: e.endpoint,
        node: e.node,
        attempt: String(e.attempt),
        max_attempts: String(e.maxAttempts),
      });
      r.message = `${e.method} ${url} → ${e.status ?? e.errorCode ?? '?'} in ${e.durationMs} ms (attempt ${e.attempt}/${e.maxAttempts}, ${e.result})`;
      return rec;
    }
    case 'delivery-finished': {
      const r = base('saypro.delivery', 'delivery-finished', ecsOutcome(e.outcome), e.outcome);
      if (e.eventId) r.event.id = scrub(e.eventId);
      r.event.duration = ns(e.durationMs);
      const rec: Record<string, unknown> = r;
      if (e.statusCode !== undefined) rec.http = { response: { status_code: e.statusCode } };
      if (e.errorCode || e.errorMessage)
        rec.error = {
          ...(e.errorCode ? { code: e.errorCode } : {}),
          ...(e.errorMessage ? { message: scrub(e.errorMessage) } : {}),
        };
      Object.assign(r.labels, { endpoint: e.endpoint, node: e.node, attempts: String(e.attempts) });
      r.message = `${e.outcome} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'} (${e.endpoint})${e.errorCode ? `: ${e.errorCode}` : ''}`;
      return rec;
    }
    case 'event-received': {
      const r = base('saypro.events', 'event-received', ecsOutcome(e.outcome), e.outcome);
      if (e.eventId) r.event.id = scrub(e.eventId);
      const rec: Record<string, unknown> = r;
      if (e.errorCode || e.errorMessage)
        rec.error = {
          ...(e.errorCode ? { code: e.errorCode } : {}),
          ...(e.errorMessage ? { message: scrub(e.errorMessage) } : {}),
        };
      Object.assign(r.labels, { trigger: e.trigger, ...(e.type !== undefined ? { event_type: scrub(e.type) } : {}) });
      r.message = `event ${e.type ?? ''} ${e.outcome} at ${e.trigger}`.replace(/\s+/g, ' ');
      return rec;
    }
    case 'deprecation': {
      if (!e.logged) return undefined;
      const r = base('saypro.api_version', 'api-deprecation', 'unknown', e.sunset ? 'sunset' : 'deprecated');
      r.event.category = ['network'];
      const rec: Record<string, unknown> = r;
      Object.assign(r.labels, {
        endpoint: e.endpoint,
        node: e.node,
        ...(e.deprecation ? { deprecation: e.deprecation } : {}),
        ...(e.sunset ? { sunset: e.sunset } : {}),
        ...(e.link ? { link: scrub(e.link) } : {}),
      });
      r.message = deprecationText(e.endpoint, e, scrub);
      return rec;
    }
  }
  return undefined;
}

/** One readable sentence for a deprecation notice (the log warning). */
export function deprecationText(
  endpoint: string,
  d: { deprecation?: string; sunset?: string; link?: string; warning?: string },
  scrub: Scrub = (t) => t,
): string {
  const parts: string[] = [];
  if (d.deprecation)
    parts.push(d.deprecation === 'true' ? 'is deprecated' : `is deprecated since ${d.deprecation.slice(0, 10)}`);
  if (d.sunset) parts.push(`will be withdrawn on ${d.sunset.slice(0, 10)}`);
  let text = `API of endpoint "${endpoint}" ${parts.length ? parts.join(' and ') : 'sent a version notice'}`;
  if (d.warning) text += `: ${scrub(d.warning)}`;
  if (d.link) text += ` (see ${scrub(d.link)})`;
  return text;
}
