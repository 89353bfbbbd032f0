// A partition's event file on a real folder: what a restart reads back, a line torn by a kill, and
// numbering that goes on after retention has dropped every event.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { attachEventFile } from "../../src/eventhubs/eventFile.ts";
import type { WireEvent } from "../../src/eventhubs/eventWire.ts";
import { DEFAULT_RETENTION, PartitionLog } from "../../src/eventhubs/partitionLog.ts";

const root = mkdtempSync(join(tmpdir(), "eh-event-file-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const event = (text: string) => ({
  size: text.length,
  toPayload: (): WireEvent => ({ bytes: Buffer.from(text), deliveryAnnotationsAt: 1 }),
});

describe("event file", () => {
  it("gives a restarted partition its events and numbering, dropping a line torn by a kill", () => {
    const file = join(root, "hub", "0.jsonl");
    const first = new PartitionLog<WireEvent>();
    const attached = attachEventFile(first, file);
    first.append([event("alpha"), event("beta")]);
    first.append([event("gamma")]);
    attached.close();
    appendFileSync(file, '{"n":3,"o":14,"t":');

    const second = new PartitionLog<WireEvent>();
    attachEventFile(second, file).close();
    expect(second.retained()).toEqual(first.retained());
    expect(second.next).toEqual({ sequenceNumber: 3, offset: 14 });
    // Rewritten: the numbering, then the three events.
    expect(readFileSync(file, "utf8").trimEnd().split("\n")).toHaveLength(4);
  });

  it("numbers on from where it was when retention has dropped every event", () => {
    const file = join(root, "hub", "1.jsonl");
    let now = 1_000_000;
    const retention = { ...DEFAULT_RETENTION, maxAgeMs: 1000 };
    const first = new PartitionLog<WireEvent>(retention, () => now);
    const attached = attachEventFile(first, file);
    first.append([event("old")]);
    attached.close();
    now += 5000;

    const second = new PartitionLog<WireEvent>(retention, () => now);
    attachEventFile(second, file).close();
    expect(second.retained()).toEqual([]);
    const third = new PartitionLog<WireEvent>(retention, () => now);
    const reattached = attachEventFile(third, file);
    expect(
      third.append([event("new")]).map(({ sequenceNumber, offset }) => ({ sequenceNumber, offset })),
    ).toEqual([{ sequenceNumber: 1, offset: 3 }]);
    reattached.close();
  });
});
