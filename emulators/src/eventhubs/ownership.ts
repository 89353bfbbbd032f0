/**
 * Receiver arbitration for one partition of one consumer group, after Event Hubs' epoch rules:
 * a receiver with an owner level (epoch) disconnects every receiver with a lower or equal level and
 * every receiver without one; a receiver is refused while a higher-level one, or (for receivers
 * without a level) any levelled one, is connected. At most 5 receivers without a level may share a
 * partition. The losers get `amqp:link:stolen`, which the SDK raises as ReceiverDisconnectedError.
 */
import { AmqpError } from "../amqp/errors.ts";

/** What the SDK raises as ReceiverDisconnectedError. */
const LINK_STOLEN = "amqp:link:stolen";
/** Event Hubs' QuotaExceeded. */
const RESOURCE_LIMIT_EXCEEDED = "amqp:resource-limit-exceeded";

/** Event Hubs' limit of concurrent receivers per partition and consumer group. */
export const MAX_RECEIVERS_PER_PARTITION = 5;

interface Claim {
  name: string;
  ownerLevel: number | undefined;
}

export interface StolenReceiver<R> {
  receiver: R;
  error: AmqpError;
}

export class PartitionReceivers<R> {
  readonly #claims = new Map<R, Claim>();

  get count(): number {
    return this.#claims.size;
  }

  /**
   * Registers `receiver`, or throws the error the new link is refused with. Returns the receivers it
   * displaced; the caller closes their links with the error given.
   */
  claim(receiver: R, name: string, ownerLevel: number | undefined): StolenReceiver<R>[] {
    const levelled = [...this.#claims.values()].find((claim) => claim.ownerLevel !== undefined);
    if (ownerLevel === undefined) {
      if (levelled) {
        throw new AmqpError(
          LINK_STOLEN,
          `Receiver '${name}' without an epoch cannot be created because receiver '${levelled.name}' with epoch '${levelled.ownerLevel}' exists on this partition of the consumer group.`,
        );
      }
      if (this.#claims.size >= MAX_RECEIVERS_PER_PARTITION) {
        throw new AmqpError(
          RESOURCE_LIMIT_EXCEEDED,
          `Exceeded the maximum number of allowed receivers per partition in a consumer group which is ${MAX_RECEIVERS_PER_PARTITION}.`,
        );
      }
      this.#claims.set(receiver, { name, ownerLevel });
      return [];
    }
    if (levelled?.ownerLevel !== undefined && levelled.ownerLevel > ownerLevel) {
      throw new AmqpError(
        LINK_STOLEN,
        `Receiver '${name}' with epoch '${ownerLevel}' cannot be created because receiver '${levelled.name}' with a higher epoch '${levelled.ownerLevel}' exists.`,
      );
    }
    const stolen = [...this.#claims].map(([other, claim]) => ({
      receiver: other,
      error: new AmqpError(
        LINK_STOLEN,
        `New receiver '${name}' with higher epoch of '${ownerLevel}' is created hence current receiver '${claim.name}' with epoch '${claim.ownerLevel ?? "none"}' is getting disconnected. If you are recreating the receiver, make sure a higher epoch is used.`,
      ),
    }));
    this.#claims.clear();
    this.#claims.set(receiver, { name, ownerLevel });
    return stolen;
  }

  release(receiver: R): void {
    this.#claims.delete(receiver);
  }
}
