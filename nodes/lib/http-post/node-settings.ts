/**
 * The HTTP POST node's settings as its glue uses them: the parsed settings
 * (settings.ts) and the problems in the order a user meets them (the
 * endpoint, the fields, the queue choice). The first problem refuses every
 * message (`setupError`) and names the status (`problem`). No Node-RED here:
 * what the runtime found (the endpoint node, the queue choice's error) is
 * passed in.
 */
import type { IntegrationError } from '../errors';
import {
  deliverySettingsOf,
  endpointProblem,
  parseHttpPostSettings,
  problemOf,
  type HttpPostConfig,
  type SettingsContext,
} from './settings';

export type { HttpPostCredentials } from './settings';

/** the node's config as the editor saves it */
export interface HttpPostNodeConfig extends HttpPostConfig {
  endpoint?: string;
  /** 'local' (the journal, default) or 'shared' (NATS JetStream, see common/queue-factory.ts) */
  queue?: string;
  /** the saypro-nats config node of the shared queue */
  nats?: string;
}

export interface Found {
  /** a deployed endpoint config node was found for config.endpoint */
  endpoint: boolean;
  /** why the queue choice is not usable (counts in durable mode only) */
  queueError: IntegrationError | undefined;
}

export function nodeSettings(config: HttpPostNodeConfig, context: SettingsContext, found: Found) {
  const parsed = parseHttpPostSettings(config, context);
  const s = parsed.settings;
  const problems = [
    endpointProblem(config.endpoint, found.endpoint),
    ...parsed.problems,
    s.durable && found.queueError ? problemOf(found.queueError) : undefined,
  ].filter((p) => p !== undefined);
  const first = problems[0];
  return {
    s,
    /** what the delivery engine takes */
    delivery: deliverySettingsOf(s),
    warnings: parsed.warnings,
    problems,
    setupError: first?.error,
    /** what the status shows of the first problem */
    problem: first && { status: first.status, field: first.field },
  };
}
