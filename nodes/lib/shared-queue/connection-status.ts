/**
 * What the saypro-nats config node tells its users (and shows) for each
 * state of its connection: a dot and an i18n key under nats.status. A
 * connection that is up is green; one being made is grey; one lost and
 * being made again is yellow; settings that cannot work, or a connection
 * given up, are red. No Node-RED here.
 */

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'invalid';

export interface ConnectionStatus {
  fill: 'red' | 'green' | 'yellow' | 'grey';
  shape: 'ring' | 'dot';
  /** the text's key in the nats catalogue */
  key: string;
}

const STATUS: Record<ConnectionState, ConnectionStatus> = {
  connected: { fill: 'green', shape: 'dot', key: 'nats.status.connected' },
  reconnecting: { fill: 'yellow', shape: 'ring', key: 'nats.status.reconnecting' },
  invalid: { fill: 'red', shape: 'ring', key: 'nats.status.invalid' },
  closed: { fill: 'red', shape: 'ring', key: 'nats.status.disconnected' },
  connecting: { fill: 'grey', shape: 'ring', key: 'nats.status.connecting' },
};

export function connectionStatus(state: ConnectionState): ConnectionStatus {
  return STATUS[state] ?? STATUS.connecting;
}

/** The state after a status event of the NATS client; undefined: it does not change the state. */
export function stateAfter(event: { type: string }): 'connected' | 'reconnecting' | undefined {
  if (event.type === 'disconnect' || event.type === 'reconnecting') return 'reconnecting';
  if (event.type === 'reconnect') return 'connected';
  return undefined;
}
