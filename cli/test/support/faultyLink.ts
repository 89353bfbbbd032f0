/**
 * A TCP relay between the SDK and the broker that fails the way a network or broker does: once the
 * client has sent a batch (a transfer of message format 0x80013700, which is how the SDK sends
 * `ServiceBusMessageBatch`), the next disposition it sends (the completion of what it received) is
 * dropped with every connection, and new connections are refused until `restore()`. So the broker
 * has accepted the copies and never hears that the dead letters are done.
 *
 * It reads just enough AMQP 1.0 framing: an 8-byte protocol header per layer (SASL, then AMQP),
 * then frames of `size (4) | doff (1) | type (1) | channel (2) | body`, the body starting with the
 * performative's descriptor `0x00 0x53 <code>` (transfer 0x14, disposition 0x15); a transfer's
 * message format is a uint, encoded `0x70` and four bytes, among its first fields.
 */
import { type ClientFilter, TcpRelay } from "@qcs/test-support";

const TRANSFER = 0x14;
const DISPOSITION = 0x15;
/** `uint 0x80013700`: the Service Bus / Event Hubs batch message format. */
const BATCH_FORMAT = Buffer.from([0x70, 0x80, 0x01, 0x37, 0x00]);

export class FaultyLink {
  readonly #relay: TcpRelay;
  #armed = false;
  #batchSent = false;

  constructor(upstream: { host: string; port: number }) {
    this.#relay = new TcpRelay(upstream, { clientFilter: () => this.#frames() });
  }

  /** Connections cut so far. */
  get cuts(): number {
    return this.#relay.cuts;
  }

  start(): Promise<number> {
    return this.#relay.start();
  }

  /** Cut every connection at the first disposition the client sends after its next batch. */
  failAfterNextBatch(): void {
    this.#armed = true;
    this.#batchSent = false;
  }

  restore(): void {
    this.#armed = false;
    this.#relay.refuse(false);
  }

  close(): Promise<void> {
    return this.#relay.close();
  }

  /** Splits a connection's bytes into frames and cuts at the disposition that follows a batch. */
  #frames(): ClientFilter {
    let pending = Buffer.alloc(0);
    return (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      const forward: Buffer[] = [];
      for (;;) {
        const length = frameLength(pending);
        if (length === undefined || pending.length < length) break;
        const frame = pending.subarray(0, length);
        pending = pending.subarray(length);
        const performative = performativeOf(frame);
        if (this.#armed && performative === TRANSFER && isBatch(frame)) this.#batchSent = true;
        if (this.#armed && this.#batchSent && performative === DISPOSITION) {
          this.#armed = false;
          this.#relay.refuse();
          return { forward: Buffer.alloc(0), cut: true };
        }
        forward.push(frame);
      }
      return { forward: Buffer.concat(forward), cut: false };
    };
  }
}

/** Bytes of the protocol header or frame at the start of `buffer`, or undefined if not yet known. */
function frameLength(buffer: Buffer): number | undefined {
  if (buffer.length < 8) return undefined;
  if (buffer.subarray(0, 4).toString("latin1") === "AMQP") return 8;
  return buffer.readUInt32BE(0);
}

function performativeOf(frame: Buffer): number | undefined {
  if (frame.subarray(0, 4).toString("latin1") === "AMQP" || frame[5] !== 0) return undefined;
  const body = (frame[4] as number) * 4;
  return frame[body] === 0x00 && frame[body + 1] === 0x53 ? frame[body + 2] : undefined;
}

function isBatch(frame: Buffer): boolean {
  const body = (frame[4] as number) * 4;
  // handle, delivery-id, delivery-tag (16 bytes), message-format: all within the first 40 bytes.
  return frame.subarray(body, body + 40).includes(BATCH_FORMAT);
}
