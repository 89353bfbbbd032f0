import { describe, expect, it } from "vitest";
import { assessProgress, QuietTracker } from "../../../src/dev/core/completion.ts";

const caughtUp = [
  { partitionId: "0", lastSequenceNumber: 4, checkpointSequenceNumber: 4 },
  { partitionId: "1", lastSequenceNumber: -1, checkpointSequenceNumber: undefined },
];

describe("assessProgress", () => {
  it("is quiet when ingest checkpointed every event and both entities are empty", () => {
    expect(assessProgress({ partitions: caughtUp, requests: [], results: [] })).toEqual({
      quiet: true,
      eventsTotal: 5,
      eventsProcessed: 5,
      requestsPending: 0,
      resultsPending: 0,
      left: [],
    });
  });

  it("names the partitions ingest has not checkpointed past, counting a partition without checkpoint as unread", () => {
    const assessment = assessProgress({
      partitions: [
        { partitionId: "0", lastSequenceNumber: 4, checkpointSequenceNumber: 2 },
        { partitionId: "3", lastSequenceNumber: 1, checkpointSequenceNumber: undefined },
      ],
      requests: [],
      results: [],
    });
    expect(assessment.quiet).toBe(false);
    expect(assessment.eventsProcessed).toBe(3);
    expect(assessment.left).toEqual([
      "ingest: 4 of 7 event(s) not checkpointed yet, on partition(s) 0 (2), 3 (2)",
    ]);
  });

  it("names the images still waiting, being scanned or scheduled for a retry, and results not recorded", () => {
    const assessment = assessProgress({
      partitions: caughtUp,
      requests: [
        { imageRef: "docker.io/library/nginx:1.27", state: "in progress" },
        { imageRef: "ghcr.io/contoso/app:1", state: "scheduled" },
        { imageRef: undefined, state: "waiting" },
      ],
      results: [{ imageRef: "docker.io/library/busybox:1.36", state: "waiting" }],
    });
    expect(assessment.left).toEqual([
      "scanner: 3 message(s) (1 in progress, 1 scheduled, 1 waiting: docker.io/library/nginx:1.27, ghcr.io/contoso/app:1, (unknown image)) in scan-requests",
      "recorder: 1 message(s) (1 waiting: docker.io/library/busybox:1.36) not recorded yet",
    ]);
  });

  it("lists at most five images per hop", () => {
    const requests = Array.from({ length: 7 }, (_, index) => ({
      imageRef: `r/i${index}:1`,
      state: "waiting",
    }));
    const [line] = assessProgress({ partitions: caughtUp, requests, results: [] }).left;
    expect(line).toContain("r/i4:1, and 2 more");
  });
});

describe("QuietTracker", () => {
  const quiet = assessProgress({ partitions: caughtUp, requests: [], results: [] });
  const busy = assessProgress({
    partitions: caughtUp,
    requests: [{ imageRef: "a/b:c", state: "waiting" }],
    results: [],
  });

  it("counts the pipeline as processed only after consecutive quiet observations", () => {
    const tracker = new QuietTracker(2);
    expect(tracker.observe(quiet)).toBe(false);
    expect(tracker.observe(busy)).toBe(false);
    expect(tracker.observe(quiet)).toBe(false);
    expect(tracker.observe(quiet)).toBe(true);
  });
});
