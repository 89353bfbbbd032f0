// In-memory stand-ins for the core's ports: an ARM inventory of REST documents and a queue.
import type { TableKey, WorkloadEntity } from "@qcs/shared";
import type { ScanRequestMessage, ScanRequestSink, SendResult } from "../../src/core/batchProcessor.ts";
import type { DeployedContainer, LookupResult, ResourceLookup } from "../../src/core/lookup.ts";
import type { Target } from "../../src/core/select.ts";
import type { WorkloadRow, WorkloadStore } from "../../src/core/workloads.ts";

interface ArmContainer {
  name: string;
  image?: string;
  properties?: { image?: string };
}
interface ArmDocument {
  id: string;
  properties?: {
    containers?: ArmContainer[];
    initContainers?: ArmContainer[];
    template?: { containers?: ArmContainer[]; initContainers?: ArmContainer[] };
  };
}

/** Looks resources up in a list of ARM GET documents, as the REST API returns them. */
export class InMemoryArm implements ResourceLookup {
  readonly #documents = new Map<string, ArmDocument>();
  readonly failures = new Map<string, LookupResult>();
  readonly calls: string[] = [];

  constructor(documents: object[] = []) {
    for (const document of documents) this.put(document);
  }

  put(document: object): void {
    const armDocument = document as ArmDocument;
    this.#documents.set(armDocument.id.toLowerCase(), armDocument);
  }

  async lookup(target: Target): Promise<LookupResult> {
    this.calls.push(target.resourceId);
    const failure = this.failures.get(target.resourceId.toLowerCase());
    if (failure) return failure;
    const document = this.#documents.get(target.resourceId.toLowerCase());
    if (!document)
      return { status: "failed", kind: "not-found", retryable: false, message: "ResourceNotFound" };
    const properties = document.properties ?? {};
    // ACI nests each container's settings under `properties`; Container Apps and jobs do not.
    const image = (c: ArmContainer) => (target.kind === "aci" ? c.properties?.image : c.image);
    const lists = target.kind === "aci" ? properties : (properties.template ?? {});
    const containers: DeployedContainer[] = [
      ...(lists.initContainers ?? []).map((c) => ({ name: c.name, image: image(c), init: true })),
      ...(lists.containers ?? []).map((c) => ({ name: c.name, image: image(c), init: false })),
    ];
    return { status: "found", resource: { id: document.id, containers } };
  }
}

/** Accepts messages like a queue; `acceptAtMost` makes later messages of a send fail. */
export class InMemoryQueue implements ScanRequestSink {
  readonly messages: ScanRequestMessage[] = [];
  acceptAtMost = Number.POSITIVE_INFINITY;

  async send(messages: readonly ScanRequestMessage[]): Promise<SendResult> {
    const accepted = messages.slice(0, Math.max(0, this.acceptAtMost));
    this.acceptAtMost -= accepted.length;
    this.messages.push(...accepted);
    return accepted.length === messages.length
      ? { accepted: new Set(accepted.map((m) => m.messageId)) }
      : { accepted: new Set(accepted.map((m) => m.messageId)), error: new Error("ServiceUnavailable") };
  }

  bodies() {
    return this.messages.map((message) => message.body);
  }
}

/** The `Workloads` table as a map; `failing` makes every write throw. */
export class InMemoryWorkloads implements WorkloadStore {
  readonly rows = new Map<string, WorkloadEntity>();
  failing = false;

  async upsert(row: WorkloadRow): Promise<void> {
    if (this.failing) throw new Error("table unavailable");
    const key = `${row.partitionKey}/${row.rowKey}`;
    this.rows.set(key, { ...row, FirstSeenAt: this.rows.get(key)?.FirstSeenAt ?? row.LastSeenAt });
  }

  async remove(key: TableKey): Promise<void> {
    if (this.failing) throw new Error("table unavailable");
    this.rows.delete(`${key.partitionKey}/${key.rowKey}`);
  }
}
