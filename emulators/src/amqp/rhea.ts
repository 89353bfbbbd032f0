/**
 * The few rhea internals the server relies on, typed in one place (rhea's own typings omit them).
 * Checked against rhea 3.0.x; `server.test.ts` exercises each of them.
 */
import rhea, { type Message, type Receiver, type Sender } from "rhea";

export interface LinkInternals {
  name: string;
  remote: { attach: Record<string, unknown> & { source?: Terminus; target?: Terminus } };
  local: { attach: Record<string, unknown> };
  credit: number;
  delivery_count: number;
  snd_settle_mode?: number;
  session: { outgoing: { next_pending_delivery: number; available(): number } };
  _draining: boolean;
  _drained: boolean;
  _incomplete?: { frames?: Buffer[] };
  _get_drain(): boolean;
}

export interface Terminus {
  address?: string;
  filter?: Record<string, unknown>;
}

export interface ConnectionInternals {
  input(buffer: Buffer): void;
  accept(socket: unknown): void;
  frame_size?: number;
  local_channel_map: Record<string, { links: Record<string, LinkInternals> }>;
  /** Idle timers rhea clears only when the socket ends, not when it is destroyed. */
  heartbeat_in?: ReturnType<typeof setTimeout>;
  heartbeat_out?: ReturnType<typeof setTimeout>;
  abort_idle?: ReturnType<typeof setTimeout>;
}

export function linkInternals(link: Sender | Receiver): LinkInternals {
  return link as unknown as LinkInternals;
}

type Outcome = unknown;
const outcomes = rhea.message as unknown as {
  accepted(): { described(): Outcome };
  rejected(fields: { error?: { condition: string; description: string } }): { described(): Outcome };
  modified(fields: Record<string, unknown>): { described(): Outcome };
};

export function accepted(): Outcome {
  return outcomes.accepted().described();
}

/** A `rejected` outcome; without an error it settles a client's rejection as done. */
export function rejected(error?: { condition: string; description: string }): Outcome {
  return outcomes.rejected(error ? { error } : {}).described();
}

/** rhea's Message type requires a body; management replies and annotations-only messages have none. */
export function message(fields: Partial<Message>): Message {
  return fields as Message;
}
