import { describe, expect, it } from "vitest";
import { settleDeadLetters } from "../../src/core/settlement.ts";
import { deadLetter, FakeDeadLetterQueue, FakeTargetEntity } from "../support/fakeDeadLetterQueue.ts";

const seqs = (...numbers: number[]) => new Set(numbers.map(BigInt));
const resubmittedFrom = (target: FakeTargetEntity) =>
  target.messages.map((copy) => copy.applicationProperties.resubmittedFrom).sort();

describe("settling selected dead letters", () => {
  it("resubmits exactly the selected dead letters and leaves the others unlocked in the queue", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3, 4, 5, 6].map((n) => deadLetter(n)));
    const target = new FakeTargetEntity();
    const report = await settleDeadLetters(
      queue,
      seqs(2, 5),
      { kind: "resubmit", sender: target },
      { batchSize: 2 },
    );
    expect(report.settled.sort()).toEqual([2n, 5n]);
    expect(report.notFound).toEqual([]);
    expect(report.failure).toBeUndefined();
    expect(queue.sequenceNumbers()).toEqual([1n, 3n, 4n, 6n]);
    expect(queue.locked()).toBe(0);
    expect(resubmittedFrom(target)).toEqual(["2", "5"]);
  });

  it("keeps skipped dead letters locked so later receives move past them", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3, 4, 5, 6, 7, 8].map((n) => deadLetter(n)));
    const target = new FakeTargetEntity();
    await settleDeadLetters(queue, seqs(8), { kind: "resubmit", sender: target }, { batchSize: 3 });
    expect(queue.receiveCalls).toBe(3);
    expect(resubmittedFrom(target)).toEqual(["8"]);
  });

  it("abandons the received dead letters when sending fails, so none is lost and none copied", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3, 4].map((n) => deadLetter(n)));
    const target = new FakeTargetEntity();
    target.sendsBeforeFailure = 0;
    const report = await settleDeadLetters(queue, seqs(1, 2, 3, 4), { kind: "resubmit", sender: target });
    expect(report.settled).toEqual([]);
    expect(report.notAttempted.sort()).toEqual([1n, 2n, 3n, 4n]);
    expect(String(report.failure)).toContain("broker unavailable");
    expect(queue.sequenceNumbers()).toEqual([1n, 2n, 3n, 4n]);
    expect(queue.locked()).toBe(0);
    expect(target.messages).toEqual([]);
  });

  it("stops at a failed send part-way and reports what was done and what was not", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3, 4, 5, 6].map((n) => deadLetter(n)));
    const target = new FakeTargetEntity();
    target.sendsBeforeFailure = 1;
    const report = await settleDeadLetters(
      queue,
      seqs(1, 2, 3, 4, 5, 6),
      { kind: "resubmit", sender: target },
      { batchSize: 2 },
    );
    expect(report.settled).toEqual([1n, 2n]);
    expect(report.notAttempted.sort()).toEqual([3n, 4n, 5n, 6n]);
    expect(queue.sequenceNumbers()).toEqual([3n, 4n, 5n, 6n]);
    expect(resubmittedFrom(target)).toEqual(["1", "2"]);
  });

  it("sends a copy only once although completing its dead letter failed and it was resubmitted again", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3].map((n) => deadLetter(n)));
    queue.failCompletionOf.add(2n);
    const target = new FakeTargetEntity();
    const first = await settleDeadLetters(queue, seqs(1, 2, 3), { kind: "resubmit", sender: target });
    expect(first.notRemoved).toEqual([2n]);
    expect(queue.sequenceNumbers()).toContain(2n);

    const second = await settleDeadLetters(queue, seqs(2), { kind: "resubmit", sender: target });
    expect(second.settled).toEqual([2n]);
    expect(queue.sequenceNumbers()).toEqual([]);
    expect(resubmittedFrom(target)).toEqual(["1", "2", "3"]);
  });

  it("sends copies in as many batches as the target accepts", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3, 4, 5].map((n) => deadLetter(n)));
    const target = new FakeTargetEntity();
    target.batchSize = 2;
    const progress: number[] = [];
    const report = await settleDeadLetters(
      queue,
      seqs(1, 2, 3, 4, 5),
      { kind: "resubmit", sender: target },
      {
        onProgress: (handled) => progress.push(handled),
      },
    );
    expect(report.settled).toHaveLength(5);
    expect(progress).toEqual([2, 4, 5]);
  });

  it("reports selected dead letters that are gone as not found", async () => {
    const queue = new FakeDeadLetterQueue([1, 2].map((n) => deadLetter(n)));
    const report = await settleDeadLetters(queue, seqs(2, 9), { kind: "purge" });
    expect(report.settled).toEqual([2n]);
    expect(report.notFound).toEqual([9n]);
  });

  it("ends when only expired locks of skipped dead letters come round again", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3].map((n) => deadLetter(n)));
    const receive = queue.receive.bind(queue);
    queue.receive = async (maxCount) => {
      queue.expireLocks();
      return receive(maxCount);
    };
    const report = await settleDeadLetters(queue, seqs(42), { kind: "purge" }, { batchSize: 3 });
    expect(report.notFound).toEqual([42n]);
    expect(queue.sequenceNumbers()).toEqual([1n, 2n, 3n]);
  });

  it("purges only what was selected", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3].map((n) => deadLetter(n)));
    const report = await settleDeadLetters(queue, seqs(1, 3), { kind: "purge" });
    expect(report.settled.sort()).toEqual([1n, 3n]);
    expect(queue.sequenceNumbers()).toEqual([2n]);
  });

  it("stops between batches when interrupted, abandoning what it holds", async () => {
    const queue = new FakeDeadLetterQueue([1, 2, 3, 4].map((n) => deadLetter(n)));
    const target = new FakeTargetEntity();
    const interrupt = new AbortController();
    const report = await settleDeadLetters(
      queue,
      seqs(1, 2, 3, 4),
      { kind: "resubmit", sender: target },
      {
        batchSize: 2,
        signal: interrupt.signal,
        onProgress: () => interrupt.abort(),
      },
    );
    expect(report.settled).toEqual([1n, 2n]);
    expect(report.notAttempted.sort()).toEqual([3n, 4n]);
    expect(String(report.failure)).toContain("interrupted");
    expect(queue.locked()).toBe(0);
  });
});
