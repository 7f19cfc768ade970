/**
 * What a node looks up in the Node-RED runtime while it reads its settings:
 * the endpoint config node it names (only a deployed saypro-endpoint will
 * do), and whether a property path is one Node-RED can read.
 */
import type { NodeAPI } from 'node-red';
import type { EndpointHandle } from '../lib/http/types';

/** The deployed saypro-endpoint node with id `id`; undefined when there is none (or it is something else). */
export function endpointNode(RED: NodeAPI, id: string | undefined): EndpointHandle | undefined {
  const found = id ? (RED.nodes.getNode(id) as unknown as EndpointHandle | null) : null;
  return found && typeof found.prepare === 'function' ? found : undefined;
}

/** A check of property paths by Node-RED's own rule: why it cannot read msg.<p>, undefined when it can. */
export function propertyPathChecker(RED: NodeAPI): (p: string) => string | undefined {
  return (p) => {
    try {
      RED.util.normalisePropertyExpression(p);
      return undefined;
    } catch (err) {
      return String((err as Error)?.message ?? err);
    }
  };
}
