/**
 * Who is in a shared queue's group, and this instance's share of the work,
 * for the monitor, the metrics and the admin route.
 *
 * Every instance puts, every few seconds, a small record under its own key
 * in the KV bucket SAYPRO_GROUP_<node> (what it delivered since it was
 * deployed, when it reported). The bucket keeps entries for MEMBER_TTL_MS
 * only, and a record older than that is not counted: an instance that died
 * leaves the group by itself. Nothing here takes part in a delivery; a
 * failure only leaves the figures as they were.
 */
import type { KV } from '@nats-io/kv';

/** how long a member counts without reporting */
export const MEMBER_TTL_MS = 30_000;

export interface MemberRecord {
  instance: string;
  delivered: number;
  at: number;
}

export interface GroupView {
  /** instances that reported within MEMBER_TTL_MS (this one included once it reported) */
  members: number;
  /** deliveries of the group's members, each since its deploy */
  groupDelivered: number;
  /** this instance's deliveries / the group's (0 … 1); 0 while the group delivered nothing */
  share: number;
  /** when the figures were read (0: never) */
  at: number;
}

/** the group's figures from its members' records (pure) */
export function groupView(records: MemberRecord[], self: string, now: number, ttlMs = MEMBER_TTL_MS): GroupView {
  const live = records.filter((r) => r && typeof r.delivered === 'number' && now - r.at <= ttlMs);
  const groupDelivered = live.reduce((a, r) => a + Math.max(0, r.delivered), 0);
  const mine = live.find((r) => r.instance === self)?.delivered ?? 0;
  return {
    members: live.length,
    groupDelivered,
    share: groupDelivered > 0 ? Math.max(0, Math.min(1, mine / groupDelivered)) : 0,
    at: now,
  };
}

/** a KV key for an instance name: [A-Za-z0-9_-], at most 100 characters */
export function memberKey(instance: string): string {
  const clean = instance.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  return clean === '' ? '_' : clean;
}

export class GroupMembers {
  private readonly kv: KV;
  private readonly self: string;
  private readonly now: () => number;
  view: GroupView = { members: 0, groupDelivered: 0, share: 0, at: 0 };

  constructor(kv: KV, self: string, now: () => number = Date.now) {
    this.kv = kv;
    this.self = self;
    this.now = now;
  }

  /** reports this instance's figures, then reads everyone's */
  async refresh(delivered: number): Promise<GroupView> {
    const mine: MemberRecord = { instance: this.self, delivered, at: this.now() };
    await this.kv.put(memberKey(this.self), JSON.stringify(mine));
    const records: MemberRecord[] = [];
    const keys = await this.kv.keys();
    for await (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT') continue;
      try {
        const r = e.json<MemberRecord>();
        if (r && typeof r.instance === 'string' && typeof r.at === 'number') records.push(r);
      } catch {
        // not a member record
      }
    }
    this.view = groupView(records, this.self, this.now());
    return this.view;
  }

  /** leaves the group at once (on close) */
  async leave(): Promise<void> {
    await this.kv.delete(memberKey(this.self));
  }
}

/** What an instance knows of its group (stats().shared, the monitor, the metrics). */
export interface SharedGroupInfo {
  /** connected to a NATS server now */
  connected: boolean;
  /** the connection's state in a word: connecting, connected, reconnecting, closed, invalid */
  connection: string;
  stream: string;
  replicas: number;
  /** this instance's name in the group */
  instance: string;
  /** instances that reported in the last 30 s (this one included) */
  members: number;
  /** this instance's deliveries since its deploy */
  delivered: number;
  /** the members' deliveries, each since its deploy */
  groupDelivered: number;
  /** delivered / groupDelivered (0 … 1) */
  share: number;
  /** when the group figures were read (0: not yet) */
  groupAt: number;
  /** rate slots granted to this instance, given up, and how far ahead it reserves them */
  groupGrants: number;
  missedSlots: number;
  leadMs: number;
}

/** stats().shared from the parts a shared queue has */
export function describeGroup(p: {
  link: { isConnected(): boolean; state?(): string };
  stream: string;
  replicas: number;
  instance: string;
  view: GroupView | undefined;
  delivered: number;
  pacer: { granted: number; missedSlots: number; leadMs: number } | undefined;
}): SharedGroupInfo {
  const view = p.view ?? { members: 0, groupDelivered: 0, share: 0, at: 0 };
  const connected = p.link.isConnected();
  let connection = connected ? 'connected' : 'disconnected';
  try {
    connection = p.link.state?.() ?? connection;
  } catch {
    // keep the word from isConnected()
  }
  return {
    connected,
    connection,
    stream: p.stream,
    replicas: p.replicas,
    instance: p.instance,
    members: view.members,
    delivered: p.delivered,
    groupDelivered: view.groupDelivered,
    share: view.share,
    groupAt: view.at,
    groupGrants: p.pacer?.granted ?? 0,
    missedSlots: p.pacer?.missedSlots ?? 0,
    leadMs: Math.round(p.pacer?.leadMs ?? 0),
  };
}
