/** The journal without files or sockets: parsing, replay, and replay against the broker's own snapshot. */
import { describe, expect, it } from "vitest";
import { resolveServiceBusConfig } from "../../../src/servicebus/config.ts";
import {
  encodeRecord,
  type Journal,
  type JournalRecord,
  parseJournal,
  replay,
  versionRecord,
} from "../../../src/servicebus/journal.ts";
import { fromAmqp, tagToLockToken } from "../../../src/servicebus/message.ts";
import type { Consumer, MessageQueue } from "../../../src/servicebus/messageQueue.ts";
import { ServiceBusNamespace } from "../../../src/servicebus/namespace.ts";

const header = encodeRecord(versionRecord());
const message = (n: number) => ({ b: Buffer.from(`body ${n}`).toString("base64"), n, e: 1000 + n, c: 0 });

describe("journal text", () => {
  it("reads an empty file as an empty journal", () => {
    expect(parseJournal("", "j.jsonl")).toEqual({ records: [] });
  });

  it("drops a torn last line and says which", () => {
    const text = `${header}\n${encodeRecord({ t: "del", s: "q", n: 1 })}\n{"t":"put","s":"q","m":{"b":"AA`;
    const parsed = parseJournal(text, "/data/j.jsonl");
    expect(parsed.records).toHaveLength(2);
    expect(parsed.droppedLastLine).toMatch(/^\/data\/j\.jsonl: ignored a torn or unreadable last line 3 /);
  });

  it("refuses an unreadable line before the last, naming file and line", () => {
    const text = `${header}\nnot json\n${encodeRecord({ t: "del", s: "q", n: 1 })}\n`;
    expect(() => parseJournal(text, "/data/j.jsonl")).toThrow(
      "/data/j.jsonl: line 2 is not a journal record; the data directory is damaged",
    );
  });

  it("refuses another format or version, naming the file", () => {
    expect(() =>
      parseJournal('{"t":"version","format":"qcs-servicebus-journal","version":2}\n', "/data/j.jsonl"),
    ).toThrow(/^\/data\/j\.jsonl was written by an incompatible version \(qcs-servicebus-journal version 2;/);
    expect(() => parseJournal(`${encodeRecord({ t: "del", s: "q", n: 1 })}\n`, "/data/j.jsonl")).toThrow(
      "/data/j.jsonl was written by an incompatible version (no version header;",
    );
  });
});

describe("journal replay", () => {
  it("applies puts, updates and removals in order and keeps sequence numbers increasing", () => {
    const state = replay([
      versionRecord(),
      { t: "put", s: "q", m: message(1) },
      { t: "put", s: "q", m: message(2) },
      { t: "upd", s: "q", n: 2, c: 1, d: true, b: "Ymlt" },
      { t: "upd", s: "q", n: 2, c: 2, d: true },
      { t: "del", s: "q", n: 1 },
      { t: "upd", s: "q", n: 1, c: 5 },
      { t: "next", s: "q", n: 10 },
      { t: "put", s: "q/$DeadLetterQueue", m: message(1) },
    ]);
    expect(state.stores.get("q")?.next).toBe(10);
    expect([...(state.stores.get("q")?.messages.values() ?? [])]).toEqual([
      { ...message(2), b: "Ymlt", c: 2, d: true },
    ]);
    expect(state.stores.get("q/$DeadLetterQueue")?.next).toBe(2);
  });

  it("tracks topic-scheduled messages and duplicate-detection windows", () => {
    const state = replay([
      { t: "tput", s: "events", n: 4, m: { b: "AA", at: 5000 } },
      { t: "tput", s: "events", n: 5, m: { b: "AB", at: 6000 } },
      { t: "tdel", s: "events", n: 4 },
      { t: "dup", s: "q", id: "a", x: 100 },
      { t: "dup", s: "q", id: "b", x: 200 },
      { t: "dup", s: "q", id: "a", x: 300 },
    ]);
    expect(state.topics.get("events")).toEqual({ next: 6, scheduled: new Map([[5, { b: "AB", at: 6000 }]]) });
    expect([...(state.duplicates.get("q") ?? [])]).toEqual([
      ["b", 200],
      ["a", 300],
    ]);
  });
});

describe("journal and broker state", () => {
  const config = {
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Queues: [
            {
              Name: "q",
              Properties: {
                MaxDeliveryCount: 2,
                RequiresDuplicateDetection: true,
                DuplicateDetectionHistoryTimeWindow: "PT1H",
              },
            },
          ],
          Topics: [{ Name: "t", Subscriptions: [{ Name: "s", Rules: [] }] }],
        },
      ],
    },
  };

  /** Takes every message `store` offers, returning their lock tokens. */
  function lockAll(store: MessageQueue, limit: number): string[] {
    const tokens: string[] = [];
    const consumer: Consumer = {
      presettled: false,
      credit: () => limit - tokens.length,
      deliver: (_payload, tag) => tokens.push(tagToLockToken(tag)),
    };
    store.addConsumer(consumer);
    store.removeConsumer(consumer);
    return tokens;
  }

  it("replaying the recorded changes rebuilds what the broker's snapshot holds, locks released", async () => {
    const topology = await resolveServiceBusConfig(config);
    const records: JournalRecord[] = [];
    const journal: Journal = { append: (record) => records.push(record), written: async () => {} };
    const live = new ServiceBusNamespace(topology, journal);
    const send = (entity: string, id: string, extra: object = {}) =>
      live.send(entity, fromAmqp({ message_id: id, body: id, ...extra } as never));
    for (const id of ["a", "b", "c", "d", "e"]) send("q", id);
    send("q", "a"); // a duplicate: dropped
    send("q", "later", {
      message_annotations: { "x-opt-scheduled-enqueue-time": new Date(Date.now() + 3_600_000) },
    });
    send("t", "fanned");
    send("t", "topic-later", {
      message_annotations: { "x-opt-scheduled-enqueue-time": new Date(Date.now() + 3_600_000) },
    });
    const store = (live.resolve("q") as { store: MessageQueue }).store;
    const [a, b, c, d] = lockAll(store, 4) as [string, string, string, string];
    store.complete(a);
    store.defer(b, { why: "later" });
    store.deadLetter(c, { reason: "Poison", description: "unparseable" });
    store.abandon(d); // delivery count 1, available again; "e" stays locked

    const now = Date.now();
    const expected = [...live.snapshot(now)];
    live.close();
    const restored = new ServiceBusNamespace(topology);
    const problems: string[] = [];
    restored.restore(replay(records), (problem) => problems.push(problem), now);
    expect(problems).toEqual([]);
    // The locked "e" comes back available: only the lock differs, and the journal never had it.
    expect([...restored.snapshot(now)]).toEqual(expected);
    const restoredStore = (restored.resolve("q") as { store: MessageQueue }).store;
    expect(restoredStore.countByState()).toEqual({ available: 2, locked: 0, deferred: 1, scheduled: 1 });
    expect(restored.send("q", fromAmqp({ message_id: "b", body: "again" } as never))).toBe(0);
    expect(restored.send("q", fromAmqp({ message_id: "f", body: "f" } as never))).toBe(7);
    restored.close();
  });

  it("dead-letters a message that was locked at its last allowed delivery, as on a lock loss", async () => {
    const topology = await resolveServiceBusConfig(config);
    const records: JournalRecord[] = [];
    const live = new ServiceBusNamespace(topology, {
      append: (record) => records.push(record),
      written: async () => {},
    });
    live.send("q", fromAmqp({ message_id: "x", body: "x" } as never));
    const store = (live.resolve("q") as { store: MessageQueue }).store;
    store.abandon(lockAll(store, 1)[0] as string);
    lockAll(store, 1); // second and last delivery; the broker stops while it is locked
    live.close();

    const restored = new ServiceBusNamespace(topology);
    restored.restore(replay(records), () => {});
    expect(restored.runtimeCounts("q")).toMatchObject({ active: 0, deadLettered: 1 });
    restored.close();
  });

  it("reports messages of entities no longer configured", async () => {
    const restored = new ServiceBusNamespace(await resolveServiceBusConfig(config));
    const problems: string[] = [];
    restored.restore(replay([{ t: "put", s: "gone", m: message(1) }]), (problem) => problems.push(problem));
    expect(problems).toEqual(["dropped 1 messages of 'gone', which is no longer configured"]);
    restored.close();
  });
});
