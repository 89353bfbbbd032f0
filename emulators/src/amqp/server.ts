/**
 * The AMQP 1.0 server the emulators share (Service Bus, Event Hubs). It speaks the parts of the
 * protocol every Azure messaging SDK needs and leaves the semantics to pluggable services:
 *
 * - plain TCP on host/port (port 0 picks a free one), SASL ANONYMOUS plus the `MSSBCBS` alias the
 *   .NET/Java SDKs use;
 * - `$cbs` put-token, answered after asking the owning service to authorise the audience;
 * - request/response links (`$management`, `<entity>/$management`): replies go out on the
 *   connection's sender whose link name equals the request's `reply_to`;
 * - attach echo, settle-mode mirroring, `max_message_size` on server receivers, batched transfers
 *   (0x80013700) decoded into messages, credit accounting and drain (with a fix for rhea's drain
 *   echo, which rhea skips when no credit is left);
 * - robustness: undecodable input, oversized frames and abrupt disconnects close that connection
 *   only; every link handler hears `onClose` exactly once.
 *
 * Services see links through the small interfaces below, never rhea's internals.
 */
import { createServer, type Server, type Socket } from "node:net";
import rhea, {
  type Connection,
  type Delivery,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from "rhea";
import { decodeTransfer, encodedTransfer, int } from "./codec.ts";
import { AmqpError, Condition, toAmqpError } from "./errors.ts";
import {
  accepted,
  type ConnectionInternals,
  type LinkInternals,
  linkInternals,
  message,
  rejected,
  type Terminus,
} from "./rhea.ts";

/** A link the client sends on (the server receives). */
export interface InboundLink {
  readonly name: string;
  /** Target address with any `sb://host/` prefix removed. */
  readonly address: string;
  /** The client's attach frame (properties, desired capabilities, ...). */
  readonly attach: Readonly<Record<string, unknown>>;
  close(error?: AmqpError): void;
}

/** Implement `onMessages`, or `onEncodedMessages` to get the messages as the client encoded them. */
export interface InboundHandler {
  /**
   * Messages of one delivery (a batch carries several). Return to accept the delivery; throw an
   * `AmqpError` to reject it with that error. All messages of a batch are accepted or none.
   */
  onMessages?(messages: Message[]): void | Promise<void>;
  /**
   * The same, each message still encoded (a batch's data sections as received): for services that
   * store messages unchanged (Event Hubs) rather than decode and re-encode them.
   */
  onEncodedMessages?(messages: Buffer[]): void | Promise<void>;
  onClose?(): void;
}

/** A link the client receives on (the server sends). */
export interface OutboundLink {
  readonly name: string;
  /** Source address with any `sb://host/` prefix removed. */
  readonly address: string;
  readonly attach: Readonly<Record<string, unknown>>;
  /** True when the client asked for pre-settled deliveries (receive-and-delete, Event Hubs). */
  readonly presettled: boolean;
  /** Deliveries the client can take now (credit not yet used by queued transfers). */
  credit(): number;
  /** Queue a delivery; call only while `credit() > 0`. `format` is for pre-encoded payloads. */
  send(message: Message | Buffer, tag: Buffer, format?: number): Delivery;
  /** Add to the attach this server sends back (before the first turn of the event loop). */
  respond(fields: { properties?: Record<string, unknown>; offeredCapabilities?: string[] }): void;
  close(error?: AmqpError): void;
}

export interface OutboundHandler {
  /** The client granted credit: send what is available. */
  onCredit(): void;
  /**
   * The client settled or answered a delivery (`state` is rhea's outcome: accepted, rejected,
   * modified, released). Return the outcome to settle it with; throw an `AmqpError` to settle it
   * with a `rejected` carrying that error (e.g. a lost lock). A promise settles the delivery once it
   * resolves (a durable store confirms what it has written).
   */
  onDisposition?(delivery: Delivery, state: unknown): unknown;
  onClose?(): void;
}

export interface ManagementRequest {
  /** `$management` or `<entity>/$management`, prefix removed. */
  readonly address: string;
  readonly operation: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  readonly message: Message;
}

export interface ManagementResponse {
  /** 200 unless given; 204 means "no content" to the SDKs. */
  statusCode?: number;
  statusDescription?: string;
  body?: unknown;
  properties?: Record<string, unknown>;
}

/**
 * One emulated service. The server asks each service in turn whether it `owns` an address or
 * audience path; the first that does handles it. Methods throw `AmqpError` to refuse.
 */
export interface AmqpService {
  /** `path`: a link address or CBS audience path without scheme and host. */
  owns(path: string): boolean;
  /** CBS put-token for `path` (e.g. `queue`, `topic/Subscriptions/sub`, `hub/Partitions/0`). */
  authorize(path: string, tokenType: string): void;
  manage(request: ManagementRequest): ManagementResponse | Promise<ManagementResponse>;
  openInbound(link: InboundLink): InboundHandler;
  openOutbound(link: OutboundLink): OutboundHandler;
}

export interface AmqpServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  services: AmqpService[];
  /** Advertised on every server receiver; the SDKs size batches from it. Default 1 MiB. */
  maxMessageSize?: number;
  /** Largest frame accepted; larger declared frames close the connection. Default 64 KiB. */
  maxFrameSize?: number;
  /** Where the server reports connection-level problems. Default: nowhere. */
  onError?: (error: Error) => void;
}

export interface RunningAmqpServer {
  host: string;
  port: number;
  /** Open client connections (for leak checks). */
  connectionCount(): number;
  /** Stops listening, drops every connection and closes every link handler. */
  close(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;
const DEFAULT_MAX_FRAME_SIZE = 64 * 1024;
/** Connections silent for twice this long are dropped; clients send heartbeats at half of it. */
const IDLE_TIMEOUT_MS = 240_000;

/** `sb://host:port/a/b` or `amqps://host/a/b` -> `a/b`; plain addresses pass through. */
export function entityPath(address: string | undefined): string {
  if (!address) return "";
  const withoutHost = address.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  return withoutHost.replace(/^\/+/, "");
}

export function isManagementAddress(path: string): boolean {
  return path === "$management" || path.endsWith("/$management");
}

export async function startAmqpServer(options: AmqpServerOptions): Promise<RunningAmqpServer> {
  const container = rhea.create_container({ id: "qcs-emulator" });
  const mechanisms = container.sasl_server_mechanisms;
  mechanisms.enable_anonymous();
  // .NET and Java SDKs offer MSSBCBS (claims-based security): the real auth is the CBS token.
  mechanisms.MSSBCBS = mechanisms.ANONYMOUS;

  const report = (error: Error) => options.onError?.(error);
  const sockets = new Set<Socket>();
  const connections = new Map<Connection, ConnectionState>();
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.once("close", () => sockets.delete(socket));
    const connection = container.create_connection({
      container_id: "qcs-emulator",
      max_frame_size: maxFrameSize,
      channel_max: 4999,
      idle_time_out: IDLE_TIMEOUT_MS,
      // rhea's defaults for the links it creates when a client attaches:
      sender_options: { autosettle: true, treat_modified_as_released: false },
      receiver_options: { autoaccept: false, credit_window: 500, max_message_size: maxMessageSize },
    } as never);
    guardInput(connection, socket, maxFrameSize, maxMessageSize, report);
    connections.set(connection, new ConnectionState());
    (connection as unknown as ConnectionInternals).accept(socket);
    socket.once("close", () => dropConnection(connection));
  });

  function dropConnection(connection: Connection): void {
    const state = connections.get(connection);
    if (!state) return;
    connections.delete(connection);
    state.closeAll();
    // A destroyed socket (close(), a client that vanished) never ends, so rhea keeps its idle
    // timers, which would hold the process open for minutes after close().
    const internals = connection as unknown as ConnectionInternals;
    clearTimeout(internals.heartbeat_in);
    clearTimeout(internals.heartbeat_out);
    clearTimeout(internals.abort_idle);
  }

  function serviceFor(path: string): AmqpService {
    const service = options.services.find((candidate) => candidate.owns(path));
    if (!service) {
      throw new AmqpError(Condition.notFound, `The messaging entity '${path}' could not be found.`);
    }
    return service;
  }

  const stateOf = (context: EventContext) => connections.get(context.connection);

  container.on("sender_open", (context: EventContext) => {
    const sender = context.sender as Sender;
    const state = stateOf(context);
    if (!state) return;
    const source = linkInternals(sender).remote.attach.source;
    const path = entityPath(source?.address);
    mirrorAttach(sender);
    fixDrain(sender);
    if (path === "$cbs" || isManagementAddress(path) || !source?.address) {
      state.replySenders.set(sender.name, sender);
      return;
    }
    const link = new OutboundLinkImpl(sender, path);
    try {
      state.outbound.set(sender, { link, handler: serviceFor(path).openOutbound(link) });
    } catch (error) {
      refuse(sender, toAmqpError(error));
    }
  });

  container.on("receiver_open", (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const state = stateOf(context);
    if (!state) return;
    const path = targetPath(receiver);
    mirrorAttach(receiver);
    if (path === "$cbs" || isManagementAddress(path)) return;
    const link: InboundLink = {
      name: receiver.name,
      address: path,
      attach: linkInternals(receiver).remote.attach,
      close: (error) => receiver.close(error?.toAmqp()),
    };
    try {
      state.inbound.set(receiver, serviceFor(path).openInbound(link));
    } catch (error) {
      refuse(receiver, toAmqpError(error));
    }
  });

  container.on("message", (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const delivery = context.delivery as Delivery;
    const state = stateOf(context);
    if (!state) return;
    const path = targetPath(receiver);
    const settle = (error?: AmqpError) => {
      if (delivery.remote_settled) return;
      delivery.update(true, error ? rejected(error.toAmqp()) : accepted());
    };
    if (path === "$cbs" || isManagementAddress(path)) {
      settle();
      const request = context.message as Message;
      void answer(state, path, request).then((reply) => {
        if (reply) sendReply(state, request, reply);
      });
      return;
    }
    const handler = state.inbound.get(receiver);
    if (!handler)
      return settle(new AmqpError(Condition.notFound, `No entity behind link '${receiver.name}'.`));
    try {
      const payload = context.message as Message | Buffer;
      const format = (context as { format?: number }).format;
      const done = handler.onEncodedMessages
        ? handler.onEncodedMessages(encodedTransfer(payload, format))
        : handler.onMessages?.(decodeTransfer(payload, format));
      if (done instanceof Promise)
        done.then(
          () => settle(),
          (error) => settle(toAmqpError(error)),
        );
      else settle();
    } catch (error) {
      settle(toAmqpError(error));
    }
  });

  async function answer(
    state: ConnectionState,
    path: string,
    request: Message,
  ): Promise<Message | undefined> {
    const properties = (request.application_properties ?? {}) as Record<string, unknown>;
    const operation = String(properties.operation ?? "");
    try {
      if (path === "$cbs") {
        if (operation !== "put-token") {
          throw new AmqpError(Condition.notImplemented, `CBS operation '${operation}' is not supported.`);
        }
        const audience = entityPath(String(properties.name ?? ""));
        serviceFor(audience).authorize(audience, String(properties.type ?? ""));
        return statusMessage(202, "Accepted");
      }
      const response = await serviceFor(path).manage({
        address: path,
        operation,
        properties,
        body: request.body,
        message: request,
      });
      const code = response.statusCode ?? 200;
      const reply = statusMessage(code, response.statusDescription ?? (code === 204 ? "No Content" : "OK"));
      if (response.properties) Object.assign(reply.application_properties ?? {}, response.properties);
      if (response.body !== undefined) reply.body = response.body;
      return reply;
    } catch (error) {
      const failure = toAmqpError(error);
      if (failure.condition === Condition.internalError) report(failure);
      const reply = statusMessage(failure.statusCode, failure.message);
      Object.assign(reply.application_properties ?? {}, {
        "error-condition": failure.condition,
        errorCondition: failure.condition,
      });
      return state.closed ? undefined : reply;
    }
  }

  function sendReply(state: ConnectionState, request: Message, reply: Message): void {
    if (state.closed) return;
    const replyTo = request.reply_to as string | undefined;
    const sender =
      (replyTo && state.replySenders.get(replyTo)) ||
      [...state.replySenders.values()].find((candidate) => targetPath(candidate) === replyTo);
    if (!sender || sender.is_closed()) return;
    reply.correlation_id = request.message_id;
    reply.to = replyTo;
    sender.send(reply);
  }

  container.on("sender_flow", (context: EventContext) => {
    const sender = context.sender as Sender;
    const entry = stateOf(context)?.outbound.get(sender);
    if (entry) guarded(() => entry.handler.onCredit(), report);
    // Whatever could be sent is queued now; a drain request is answered after those transfers.
    if (linkInternals(sender)._draining) sender.set_drained(true);
  });

  for (const outcome of ["accepted", "rejected", "modified", "released"]) {
    container.on(outcome, (context: EventContext) => {
      const delivery = context.delivery as Delivery;
      const entry = stateOf(context)?.outbound.get(context.sender as Sender);
      if (!entry || delivery.settled) return;
      let state: unknown;
      try {
        state = entry.handler.onDisposition?.(delivery, delivery.remote_state) ?? delivery.remote_state;
      } catch (error) {
        state = rejected(toAmqpError(error).toAmqp());
      }
      if (state instanceof Promise) {
        // The link may be gone by then: nothing is left to settle.
        state.then(
          (outcome: unknown) => guarded(() => settleDisposition(delivery, outcome), report),
          (error: unknown) =>
            guarded(() => settleDisposition(delivery, rejected(toAmqpError(error).toAmqp())), report),
        );
      } else settleDisposition(delivery, state);
    });
  }

  function settleDisposition(delivery: Delivery, state: unknown): void {
    if (delivery.settled) return;
    // rhea hands over the outcome decoded; it must go back out in its described (wire) form.
    const described = (state as { described?: () => unknown } | undefined)?.described;
    delivery.update(true, typeof described === "function" ? described.call(state) : state);
    // Settling ends the delivery (receiver-settles-second); the client does not confirm it again.
    // Without this rhea keeps it in the session's 2048-slot window, which then fills and stalls.
    (delivery as { remote_settled: boolean }).remote_settled = true;
  }

  const onLinkClosed = (context: EventContext) => {
    const state = stateOf(context);
    if (!state) return;
    if (context.sender) state.closeOutbound(context.sender as Sender);
    if (context.receiver) state.closeInbound(context.receiver as Receiver);
  };
  container.on("sender_close", onLinkClosed);
  container.on("receiver_close", onLinkClosed);
  container.on("sender_error", () => {});
  container.on("receiver_error", () => {});
  container.on("session_error", () => {});
  container.on("session_close", (context: EventContext) => {
    const state = stateOf(context);
    if (state) state.closeSession(context.session);
  });
  container.on("connection_error", () => {});
  container.on("connection_close", (context: EventContext) => {
    const state = stateOf(context);
    if (state) state.closeAll();
  });
  container.on("disconnected", (context: EventContext) => dropConnection(context.connection));
  container.on("protocol_error", (error: Error) => report(error));
  container.on("error", (error: Error) => report(error));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the AMQP server has no TCP address");

  return {
    host: address.address,
    port: address.port,
    connectionCount: () => connections.size,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const connection of [...connections.keys()]) dropConnection(connection);
      await closed;
    },
  };
}

/** Link handlers of one connection, so a disconnect can close them all. */
class ConnectionState {
  closed = false;
  readonly replySenders = new Map<string, Sender>();
  readonly inbound = new Map<Receiver, InboundHandler>();
  readonly outbound = new Map<Sender, { link: OutboundLinkImpl; handler: OutboundHandler }>();

  closeOutbound(sender: Sender): void {
    const entry = this.outbound.get(sender);
    this.outbound.delete(sender);
    if (this.replySenders.get(sender.name) === sender) this.replySenders.delete(sender.name);
    if (entry) guarded(() => entry.handler.onClose?.());
  }

  closeInbound(receiver: Receiver): void {
    const handler = this.inbound.get(receiver);
    this.inbound.delete(receiver);
    if (handler) guarded(() => handler.onClose?.());
  }

  closeSession(session: unknown): void {
    for (const sender of [...this.outbound.keys()])
      if (sender.session === session) this.closeOutbound(sender);
    for (const sender of [...this.replySenders.values()]) {
      if (sender.session === session) this.replySenders.delete(sender.name);
    }
    for (const receiver of [...this.inbound.keys()])
      if (receiver.session === session) this.closeInbound(receiver);
  }

  closeAll(): void {
    this.closed = true;
    for (const sender of [...this.outbound.keys()]) this.closeOutbound(sender);
    for (const receiver of [...this.inbound.keys()]) this.closeInbound(receiver);
    this.replySenders.clear();
  }
}

class OutboundLinkImpl implements OutboundLink {
  readonly name: string;
  readonly address: string;
  readonly attach: Readonly<Record<string, unknown>>;
  readonly presettled: boolean;
  readonly #sender: Sender;
  /** Ids of deliveries queued on this link that rhea has not transferred yet. */
  readonly #queued: number[] = [];

  constructor(sender: Sender, address: string) {
    this.#sender = sender;
    this.name = sender.name;
    this.address = address;
    this.attach = linkInternals(sender).remote.attach;
    this.presettled = linkInternals(sender).snd_settle_mode === 1;
  }

  credit(): number {
    if (!this.#sender.is_open()) return 0;
    // rhea counts credit down only when it transfers (next tick), so subtract what is still queued.
    const link = linkInternals(this.#sender);
    const outgoing = link.session.outgoing;
    while (this.#queued.length > 0 && (this.#queued[0] as number) < outgoing.next_pending_delivery) {
      this.#queued.shift();
    }
    return Math.max(0, Math.min(link.credit - this.#queued.length, outgoing.available()));
  }

  send(message: Message | Buffer, tag: Buffer, format?: number): Delivery {
    const delivery = this.#sender.send(message as Message, tag, format);
    this.#queued.push(delivery.id);
    return delivery;
  }

  respond(fields: { properties?: Record<string, unknown>; offeredCapabilities?: string[] }): void {
    const attach = linkInternals(this.#sender).local.attach;
    if (fields.properties) attach.properties = fields.properties;
    if (fields.offeredCapabilities) attach.offered_capabilities = fields.offeredCapabilities;
  }

  close(error?: AmqpError): void {
    this.#sender.close(error?.toAmqp());
  }
}

/** Echo source/target and mirror the client's settle modes (rhea presettles on the local mode). */
function mirrorAttach(link: Sender | Receiver): void {
  const remote = linkInternals(link).remote.attach;
  const local = linkInternals(link).local.attach;
  if (remote.source) link.set_source(remote.source as never);
  if (remote.target) link.set_target(remote.target as never);
  local.snd_settle_mode = remote.snd_settle_mode;
  local.rcv_settle_mode = remote.rcv_settle_mode;
}

/**
 * rhea 3 answers a drain only while credit remains; a client that drains with nothing left to
 * receive (the usual end of `receiveMessages(n, { maxWaitTimeInMs })`) would wait forever.
 */
function fixDrain(sender: Sender): void {
  linkInternals(sender)._get_drain = function getDrain(this: LinkInternals) {
    if (!this._draining || !this._drained) return false;
    this.delivery_count += this.credit;
    this.credit = 0;
    this._draining = false;
    return true;
  };
}

/** A refused attach: answered with no terminus, then detached with the error (AMQP 1.0 §2.6.3). */
function refuse(link: Sender | Receiver, error: AmqpError): void {
  const local = linkInternals(link).local.attach;
  if (link.is_sender()) local.source = undefined;
  else local.target = undefined;
  link.close(error.toAmqp());
}

function statusMessage(code: number, description: string): Message {
  return message({
    application_properties: {
      "status-code": int(code),
      statusCode: int(code),
      "status-description": description,
      statusDescription: description,
    },
  });
}

function targetPath(link: Sender | Receiver): string {
  return entityPath((linkInternals(link).remote.attach.target as Terminus | undefined)?.address);
}

/**
 * Frames larger than the advertised maximum, and multi-frame deliveries larger than the message
 * limit, are refused before rhea buffers them: a hostile or broken client cannot grow memory.
 */
function guardInput(
  connection: Connection,
  socket: Socket,
  maxFrameSize: number,
  maxMessageSize: number,
  report: (error: Error) => void,
): void {
  const internals = connection as unknown as ConnectionInternals;
  const input = internals.input.bind(connection);
  let partialDelivery = 0;
  internals.input = (buffer: Buffer) => {
    input(buffer);
    if (internals.frame_size !== undefined && internals.frame_size > maxFrameSize + 8) {
      report(new Error(`closed a connection that declared a ${internals.frame_size}-byte frame`));
      socket.destroy();
      return;
    }
    // Bound deliveries spread over many frames (`more` set): rhea concatenates them at the end.
    partialDelivery = 0;
    for (const session of Object.values(internals.local_channel_map)) {
      for (const link of Object.values(session.links)) {
        for (const frame of link._incomplete?.frames ?? []) partialDelivery += frame?.length ?? 0;
      }
    }
    if (partialDelivery > maxMessageSize * 2) {
      report(new Error(`closed a connection sending a delivery over ${maxMessageSize * 2} bytes`));
      socket.destroy();
    }
  };
}

function guarded(action: () => void, report?: (error: Error) => void): void {
  try {
    action();
  } catch (error) {
    report?.(error as Error);
  }
}
