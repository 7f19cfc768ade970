/**
 * saypro-http-post: sends msg.payload through an endpoint config node
 * (saypro-endpoint) with retries, an idempotency key and optional Standard
 * Webhooks signing. Output 1: the parsed answer of a 2xx; output 2: the
 * message as it was sent, with msg.error. Thin glue around
 * lib/http/deliver.ts (engine), lib/template.ts (path) and friends.
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { onInput, sendError, type Done, type Msg, type Send } from './common/glue';
import { IntegrationError } from './lib/errors';
import { resolveEnvRef } from './lib/env';
import { compileTemplate, type CompiledTemplate } from './lib/template';
import { decodeWebhookSecret } from './lib/webhook-signature';
import type { EndpointHandle, EndpointStatus, HttpMethod } from './lib/http/types';
import {
  DEFAULT_IDEMPOTENCY_HEADER,
  METHODS,
  buildSenderHeaders,
  countedAttempts,
  deliver,
  encodeBody,
  idempotencyKeyFor,
  newDeliveryState,
  type DeliverySettings,
  type DeliveryState,
  type HeaderEntry,
} from './lib/http/deliver';
import { parseStatusSpec } from './lib/checks';
import { parseResponseBody } from './lib/http/response';

interface HttpPostDef extends NodeDef {
  endpoint?: string;
  method?: string;
  path?: string;
  headers?: HeaderEntry[];
  msgHeaders?: boolean;
  maxAttempts?: number | string;
  initialDelay?: number | string;
  maxDelay?: number | string;
  maxRetryAfter?: number | string;
  idempotencyHeader?: string;
  successStatuses?: string;
  sign?: boolean;
}

interface HttpPostCredentials {
  signingSecret?: string;
}

interface Job {
  state: DeliveryState;
  /** settles once the message has left the node (either output) */
  finished: Promise<void>;
}

const OUTPUTS = 2;
const SUCCESS = 0;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SUCCESS_STATUS_MS = 2000;

const DEFAULTS = {
  maxAttempts: 5,
  initialDelay: 1000,
  maxDelay: 30000,
  maxRetryAfter: 120,
};

function numberSetting(value: unknown, fallback: number, min: number, max: number, integer = true): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return fallback;
  if (integer && !Number.isInteger(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

export = function (RED: NodeAPI) {
  function HttpPostNode(this: Node<HttpPostCredentials>, config: HttpPostDef) {
    RED.nodes.createNode(this, config);
    const node = this;

    const maxAttempts = numberSetting(config.maxAttempts, DEFAULTS.maxAttempts, 1, 20);
    const initialDelay = numberSetting(config.initialDelay, DEFAULTS.initialDelay, 0, 24 * 3600 * 1000);
    const maxDelay = numberSetting(config.maxDelay, DEFAULTS.maxDelay, 0, 24 * 3600 * 1000);
    const maxRetryAfter = numberSetting(config.maxRetryAfter, DEFAULTS.maxRetryAfter, 0, 24 * 3600);
    const msgHeaders = config.msgHeaders === true;
    const method: HttpMethod | undefined = METHODS.includes(config.method as HttpMethod) ? (config.method as HttpMethod) : undefined;

    // ------------------------------------------------------------ set-up
    // A bad setting does not crash the flow: every message goes to output 2.
    let setupError: IntegrationError | undefined;
    let setupStatus = 'http-post.status.invalidConfig';
    const problem = (err: IntegrationError, status = 'http-post.status.invalidConfig') => {
      if (!setupError) {
        setupError = err;
        setupStatus = status;
      }
    };

    const found = config.endpoint ? (RED.nodes.getNode(config.endpoint) as unknown as EndpointHandle | null) : null;
    const endpoint = found && typeof found.prepare === 'function' ? found : undefined;
    if (!endpoint) {
      problem(
        new IntegrationError('INVALID_CONFIG', 'No endpoint is configured', [
          { field: 'endpoint', reason: config.endpoint ? 'the chosen endpoint config node does not exist or is not deployed' : 'choose an endpoint' },
        ]),
        'http-post.status.noEndpoint',
      );
    }
    if (config.method && !method) {
      problem(new IntegrationError('INVALID_CONFIG', 'Unknown method', [{ field: 'method', reason: 'expected POST, PUT, PATCH or GET', value: String(config.method) }]));
    }

    let template: CompiledTemplate | undefined;
    try {
      template = compileTemplate(config.path ?? '');
    } catch (err) {
      problem(err as IntegrationError);
    }

    const nodeHeaders = Array.isArray(config.headers) ? config.headers : [];
    const headerCheck = buildSenderHeaders(nodeHeaders, undefined);
    if (headerCheck.problems.length) {
      problem(new IntegrationError('INVALID_HEADER', 'Some headers are not valid', headerCheck.problems));
    }

    const idempotencyHeader = config.idempotencyHeader === undefined ? DEFAULT_IDEMPOTENCY_HEADER : String(config.idempotencyHeader).trim();
    if (idempotencyHeader !== '' && !HEADER_NAME.test(idempotencyHeader)) {
      problem(new IntegrationError('INVALID_CONFIG', 'The idempotency header name is not valid', [{ field: 'idempotencyHeader', reason: 'use letters, digits and - only', value: idempotencyHeader }]));
    }

    // e.g. "409": HubSpot's "already exists" is as good as a 201 for this flow
    let alsoSuccess: ((status: number) => boolean) | undefined;
    if (typeof config.successStatuses === 'string' && config.successStatuses.trim() !== '') {
      const parsed = parseStatusSpec(config.successStatuses);
      if (parsed.ok) alsoSuccess = (status) => parsed.spec.matches(status);
      else problem(new IntegrationError('INVALID_CONFIG', 'The extra success statuses are not valid', [{ field: 'successStatuses', reason: parsed.reason, value: config.successStatuses }]));
    }

    let signingSecret: string | undefined;
    if (config.sign === true) {
      const resolved = resolveEnvRef(node.credentials?.signingSecret);
      if (resolved.missing) {
        problem(
          new IntegrationError('INVALID_SECRET', `The signing secret refers to environment variable ${resolved.variable}, which is not set`, [
            { field: 'signingSecret', reason: `environment variable ${resolved.variable} is not set` },
          ]),
          'http-post.status.invalidSecret',
        );
      } else if (!resolved.value) {
        problem(new IntegrationError('INVALID_SECRET', 'Signing is on but no signing secret is set', [{ field: 'signingSecret', reason: 'enter the whsec_… secret' }]), 'http-post.status.invalidSecret');
      } else {
        try {
          decodeWebhookSecret(resolved.value);
          signingSecret = resolved.value.trim();
        } catch (err) {
          const e = err as IntegrationError;
          problem(new IntegrationError('INVALID_SECRET', e.message, [{ field: 'signingSecret', reason: e.message }]), 'http-post.status.invalidSecret');
        }
      }
    }

    const settings: DeliverySettings = {
      maxAttempts,
      initialDelay,
      maxDelay,
      maxRetryAfter,
      idempotencyHeader,
      signingKey: signingSecret,
      alsoSuccess,
    };

    // ------------------------------------------------------------ status
    const jobs = new Set<Job>();
    let lastWaiting: DeliveryState | undefined;
    let lastResult: NodeStatus | undefined;
    let endpointStatus: NodeStatus | undefined;
    let resultTimer: NodeJS.Timeout | undefined;
    let closing = false;

    let shown = '';
    function setStatus(s: NodeStatus): void {
      const key = JSON.stringify(s);
      if (key === shown) return;
      shown = key;
      node.status(s);
    }

    function showStatus(): void {
      if (closing) return;
      if (setupError) {
        setStatus({ fill: 'red', shape: 'ring', text: RED._(setupStatus) });
        return;
      }
      if (jobs.size > 0) {
        const states = [...jobs].map((j) => j.state);
        if (states.every((s) => s.phase === 'waiting')) {
          const s = lastWaiting && states.includes(lastWaiting) ? lastWaiting : states[states.length - 1];
          setStatus({ fill: 'yellow', shape: 'ring', text: RED._('http-post.status.retry', { n: countedAttempts(s) + 1, m: s.maxAttempts }) });
        } else {
          setStatus({ fill: 'blue', shape: 'dot', text: RED._('http-post.status.sending', { count: jobs.size }) });
        }
        return;
      }
      if (lastResult) setStatus(lastResult);
      else setStatus(endpointStatus ?? {});
    }

    function showResult(status: NodeStatus, clearAfterMs?: number): void {
      if (resultTimer) clearTimeout(resultTimer);
      resultTimer = undefined;
      lastResult = status;
      if (clearAfterMs !== undefined) {
        resultTimer = setTimeout(() => {
          resultTimer = undefined;
          lastResult = undefined;
          showStatus();
        }, clearAfterMs);
      }
      showStatus();
    }

    const user = {
      id: node.id,
      status(s: EndpointStatus) {
        endpointStatus = s && (s.text || s.fill) ? { fill: s.fill, shape: s.shape, text: s.text } : undefined;
        if (jobs.size === 0 && !(lastResult && resultTimer)) {
          // a fresh endpoint status replaces a stale failure ring while idle
          lastResult = undefined;
          showStatus();
        }
      },
    };
    if (endpoint) {
      try {
        endpoint.register(user);
      } catch (err) {
        node.warn(String((err as Error)?.message ?? err));
      }
    }
    if (setupError) node.warn(`${RED._(setupStatus)}: ${setupError.message}`);
    showStatus();

    // ------------------------------------------------------------ messages
    const closeController = new AbortController();

    async function handle(msg: Msg, send: Send, done: Done, job: Job): Promise<void> {
      const key = idempotencyKeyFor(msg);
      const label = endpoint ? String(endpoint.label ?? '') : '';
      msg.delivery = { attempts: 0, idempotencyKey: key, statusCode: null, durationMs: 0, endpoint: label };
      if (setupError || !endpoint || !template) {
        sendError(msg, setupError ?? new IntegrationError('INVALID_CONFIG', 'The node is not configured'), send, done, OUTPUTS);
        return;
      }

      let path: string;
      let body: Buffer | null;
      const built = buildSenderHeaders(nodeHeaders, msgHeaders ? msg.headers : undefined);
      try {
        path = template.render(msg);
        if (built.problems.length) throw new IntegrationError('INVALID_HEADER', 'Some headers are not valid', built.problems);
        body = encodeBody(msg.payload, method ?? endpoint.defaultMethod, built.headers);
      } catch (err) {
        sendError(msg, err, send, done, OUTPUTS);
        return;
      }

      const state = newDeliveryState(key, maxAttempts);
      job.state = state;
      const outcome = await deliver(endpoint, { method, path, headers: built.headers, body }, state, settings, {
        signal: closeController.signal,
        onAttempt: (log) => node.debug(log.text),
        onPhase: (s) => {
          if (s.phase === 'waiting') lastWaiting = s;
          showStatus();
        },
        cancelMessage: (phase) =>
          phase === 'waiting'
            ? 'the flow was redeployed while this message was waiting to be retried'
            : 'the flow was redeployed while this message was being sent',
      });

      msg.delivery = {
        attempts: state.attempts,
        idempotencyKey: key,
        statusCode: outcome.statusCode ?? null,
        durationMs: outcome.durationMs,
        endpoint: label,
      };
      if (outcome.ok) {
        msg.statusCode = outcome.statusCode;
        msg.responseHeaders = outcome.headers;
        msg.payload = outcome.body.value;
        send([msg, null]);
        done();
        return;
      }
      if (outcome.statusCode !== undefined) {
        msg.statusCode = outcome.statusCode;
        msg.responseHeaders = outcome.headers;
        // the third party's answer, parsed, so that a flow can show its reason (e.g. Stripe's decline message)
        msg.responseBody = (await parseResponseBody(outcome.raw, outcome.headers?.['content-type'])).value;
      }
      // msg.payload stays the body that was sent, so the message can be replayed
      sendError(msg, outcome.error, send, done, OUTPUTS);
    }

    onInput(node, (msg, send, done) => {
      const job: Job = { state: newDeliveryState('', maxAttempts), finished: Promise.resolve() };
      if (resultTimer) clearTimeout(resultTimer);
      resultTimer = undefined;
      lastResult = undefined;
      jobs.add(job);
      showStatus();

      // what left the node, for the status once it is done
      let result: { ok: boolean; status?: number; code?: string } = { ok: false };
      const tracked: Send = (out) => {
        const arr = Array.isArray(out) ? out : [out];
        const m = (arr[SUCCESS] ?? arr[1]) as Msg | null | undefined;
        result = { ok: arr[SUCCESS] != null, status: m?.statusCode, code: m?.error?.code };
        send(out);
      };

      const run = async (): Promise<void> => {
        try {
          await handle(msg, tracked, done, job);
        } catch (err) {
          // a bug of ours: the message still leaves on output 2
          try {
            sendError(msg, new IntegrationError('INTERNAL_ERROR', 'The message could not be delivered', [{ reason: String((err as Error)?.message ?? err) }]), tracked, done, OUTPUTS);
          } catch {
            done(err instanceof Error ? err : new Error(String(err)));
          }
        } finally {
          jobs.delete(job);
          if (!closing) {
            if (result.ok) {
              showResult({ fill: 'green', shape: 'dot', text: RED._('http-post.status.success', { status: result.status ?? '' }) }, SUCCESS_STATUS_MS);
            } else if (result.code) {
              showResult({ fill: 'red', shape: 'ring', text: RED._('http-post.status.failed', { code: result.code }) });
            } else {
              showStatus();
            }
          }
        }
      };
      job.finished = run();
      return job.finished;
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      if (resultTimer) clearTimeout(resultTimer);
      resultTimer = undefined;
      // cancels every retry wait and aborts every request in flight; each
      // message still here leaves on output 2 (CANCELLED) before we are done
      closeController.abort();
      const pending = [...jobs].map((j) => j.finished);
      Promise.allSettled(pending).then(() => {
        if (endpoint) {
          try {
            endpoint.deregister(user);
          } catch {
            // the endpoint may already be gone
          }
        }
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType<Node<HttpPostCredentials>, HttpPostDef, unknown, HttpPostCredentials>('saypro-http-post', HttpPostNode, {
    credentials: { signingSecret: { type: 'password' } },
  });
};
