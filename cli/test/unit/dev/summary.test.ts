import { describe, expect, it } from "vitest";
import { buildSummary, type RecordedResult, type SummaryInput } from "../../../src/dev/core/summary.ts";
import { renderSummary } from "../../../src/dev/core/summaryView.ts";

const severities = { critical: 1, high: 2, medium: 3, low: 4, informational: 1, total: 11 };
const digest = `sha256:${"a".repeat(64)}`;

function result(overrides: Partial<RecordedResult>): RecordedResult {
  return {
    ref: `docker.io/library/nginx@${digest}`,
    registry: "docker.io",
    repository: "library/nginx",
    tag: "1.27",
    digest,
    status: "succeeded",
    attempt: 1,
    finishedAt: "2026-03-02T10:00:00.000Z",
    vulnerabilities: severities,
    ...overrides,
  };
}

const input: SummaryInput = {
  complete: true,
  left: [],
  elapsedMs: 12_345,
  replay: { files: 2, events: 3, activityLogRecords: 4, eventGridEvents: 1, cloudEvents: 1 },
  ingest: {
    recordsRead: 6,
    recordsSelected: 4,
    recordsSkipped: { start: 2, accept: 0 },
    imagesFound: 7,
    imagesDropped: { "invalid-reference": 1, "excluded-image": 0 },
    duplicatesCollapsed: 2,
    requestsSent: 4,
    eventsGivenUp: {},
  },
  results: [
    result({}),
    result({
      ref: "ghcr.io/contoso/worker:2-crash-first1",
      registry: "ghcr.io",
      repository: "contoso/worker",
      tag: "2-crash-first1",
      attempt: 2,
    }),
    result({
      ref: "ghcr.io/contoso/gone:1-notfound",
      registry: "ghcr.io",
      repository: "contoso/gone",
      tag: "1-notfound",
      digest: undefined,
      status: "failed",
      vulnerabilities: undefined,
      error: { class: "ImageNotFound", message: "manifest unknown" },
    }),
    result({
      ref: `ghcr.io/contoso/api@${digest}`,
      registry: "ghcr.io",
      repository: "contoso/api",
      tag: undefined,
      status: "skipped",
      skipReason: "cached",
    }),
  ],
  deadLetters: [
    {
      entity: "scan-requests",
      reason: "ImageNotFound",
      description: "push it back",
      imageRef: "ghcr.io/contoso/gone:1-notfound",
    },
    { entity: "scan-requests", reason: "InvalidMessage", description: "bad body", imageRef: undefined },
    {
      entity: "scan-completed/recorder",
      reason: "InvalidMessage",
      description: "bad result",
      imageRef: "quay.io/x/y:1",
    },
  ],
  notificationsSent: [],
  coverage: {
    sloHours: 30,
    totals: { workloads: 3, images: 4, current: 2, stale: 0, failing: 1, neverScanned: 1 },
  },
};
const NO_WORKLOADS = {
  sloHours: 30,
  totals: { workloads: 0, images: 0, current: 0, stale: 0, failing: 0, neverScanned: 0 },
};

describe("buildSummary", () => {
  const summary = buildSummary(input);

  it("keys images by the reference they were requested by, not the digest form the scan found", () => {
    expect(
      summary.imageOutcomes.map((image) => [image.ref, image.outcome, image.results, image.attempt]),
    ).toEqual([
      ["docker.io/library/nginx:1.27", "scanned", 1, 1],
      [
        "ghcr.io/contoso/api@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "skipped-cached",
        1,
        1,
      ],
      ["ghcr.io/contoso/gone:1-notfound", "dead-lettered", 1, 1],
      ["ghcr.io/contoso/worker:2-crash-first1", "scanned", 1, 2],
    ]);
  });

  it("gives each image the digest its tag resolved to", () => {
    expect(summary.imageOutcomes.map((image) => [image.ref, image.digest])).toEqual([
      ["docker.io/library/nginx:1.27", digest],
      [`ghcr.io/contoso/api@${digest}`, digest],
      ["ghcr.io/contoso/gone:1-notfound", undefined],
      ["ghcr.io/contoso/worker:2-crash-first1", digest],
    ]);
  });

  it("counts requested, scanned, cached, dead-lettered images and the references ingest did not request", () => {
    expect(summary.images).toEqual({
      requested: 4,
      scanned: 2,
      skippedCached: 1,
      failed: 0,
      deadLettered: 1,
      notRequested: { "invalid-reference": 1 },
    });
  });

  it("groups dead letters by reason, the recorder's apart", () => {
    expect(summary.deadLetters.byReason).toEqual({
      ImageNotFound: 1,
      InvalidMessage: 1,
      "InvalidMessage (scan-completed/recorder)": 1,
    });
  });

  it("gives a dead-lettered image its reason and a scanned one none", () => {
    const gone = summary.imageOutcomes.find((image) => image.ref.includes("gone"));
    expect(gone?.reason).toBe("ImageNotFound");
    expect(summary.imageOutcomes[0]?.reason).toBeUndefined();
  });

  it("counts a request that dead-lettered before any result as requested", () => {
    const onlyDeadLetter = buildSummary({
      ...input,
      results: [],
      deadLetters: [
        { entity: "scan-requests", reason: "ScanTimeout", description: undefined, imageRef: "a.io/b:c" },
      ],
    });
    expect(onlyDeadLetter.images.requested).toBe(1);
    expect(onlyDeadLetter.imageOutcomes).toEqual([
      {
        ref: "a.io/b:c",
        outcome: "dead-lettered",
        digest: undefined,
        results: 0,
        attempt: undefined,
        vulnerabilities: undefined,
        reason: "ScanTimeout",
      },
    ]);
  });
});

describe("notifications in the summary", () => {
  it("counts what the sink accepted and the notifications' dead letters, and lists type and image", () => {
    const summary = buildSummary({
      ...input,
      notificationsSent: [
        { type: "io.qcs.scan.failed", ref: "ghcr.io/contoso/gone:1-notfound" },
        { type: "io.qcs.findings.new", ref: "docker.io/library/nginx:1.27" },
      ],
      deadLetters: [
        ...input.deadLetters,
        { entity: "notifications", reason: "WebhookFailed", description: "x", imageRef: "quay.io/x/y:1" },
      ],
    });
    expect(summary.notifications).toEqual({
      sent: 2,
      failed: 1,
      items: [
        { type: "io.qcs.findings.new", ref: "docker.io/library/nginx:1.27" },
        { type: "io.qcs.scan.failed", ref: "ghcr.io/contoso/gone:1-notfound" },
      ],
    });
    const text = renderSummary(summary, {
      envFile: ".local/dev/scanctl.env",
      recorderUrl: "http://127.0.0.1:8080",
      running: true,
    });
    expect(text).toMatch(
      /notifications\s+2 sent, 1 dead-lettered \(scanctl dlq list --entity notifications\)/,
    );
    expect(text).toMatch(/io\.qcs\.findings\.new\s+docker\.io\/library\/nginx:1\.27/);
  });
});

describe("renderSummary", () => {
  it("prints the counts, one row per image and where to look next", () => {
    const text = renderSummary(buildSummary(input), {
      envFile: ".local/dev/scanctl.env",
      recorderUrl: "http://127.0.0.1:8080",
      running: true,
    });
    expect(text).toContain("Fully processed in 12.3 s.");
    expect(text).toMatch(/images requested\s+4/);
    expect(text).toMatch(/skipped as cached\s+1/);
    expect(text).toMatch(
      /dead-lettered\s+1\s+ImageNotFound 1, InvalidMessage 1, InvalidMessage \(scan-completed\/recorder\) 1/,
    );
    expect(text).toMatch(/not requested\s+1\s+invalid-reference 1/);
    expect(text).toMatch(/docker\.io\/library\/nginx:1\.27 → sha256:a{64}\s+scanned\s+1\s+1\s+1\s+2\s+3\s+4/);
    // A digest reference is its own content: no arrow.
    expect(text).toMatch(/ghcr\.io\/contoso\/api@sha256:a{64}\s+skipped \(cached\)/);
    expect(text).toMatch(/ghcr\.io\/contoso\/gone:1-notfound\s+dead-lettered/);
    expect(text).toContain("npx scanctl dlq list");
    expect(text).toContain(
      'curl -H "Authorization: Bearer $RECORDER_API_KEY" http://127.0.0.1:8080/api/scans',
    );
    expect(text).toContain("npx scanctl replay");
    expect(text.trimEnd().split("\n").at(-1)).toBe(
      "status page: http://127.0.0.1:8080/ (log in with RECORDER_API_KEY)",
    );
  });

  it("prints the coverage totals after the images, or says the inventory is empty", () => {
    const next = { envFile: "x.env", recorderUrl: "http://127.0.0.1:8080", running: false };
    const text = renderSummary(buildSummary(input), next);
    expect(text).toContain(
      "Coverage (running images in Workloads against their last scan):\n" +
        "  3 workloads run 4 images: 2 current, 0 stale, 1 failing, 1 never scanned (SLO 30 h)",
    );
    expect(text.indexOf("Coverage")).toBeGreaterThan(text.indexOf("nginx"));
    expect(text).toContain("npx scanctl coverage");
    expect(renderSummary(buildSummary({ ...input, coverage: NO_WORKLOADS }), next)).toContain(
      "  no workloads in the inventory yet",
    );
  });

  it("says what is left when the pipeline did not finish, and no replay hint once the stack is gone", () => {
    const text = renderSummary(buildSummary({ ...input, complete: false, left: ["scanner: 1 message(s)"] }), {
      envFile: "x",
      recorderUrl: "http://127.0.0.1:1",
      running: false,
    });
    expect(text).toContain(
      "NOT fully processed after 12.3 s. Still in the pipeline:\n  - scanner: 1 message(s)",
    );
    expect(text).not.toContain("scanctl replay");
  });

  it("names the events ingest gave up on only when there are some", () => {
    const next = { envFile: "x", recorderUrl: "http://127.0.0.1:1", running: true };
    expect(renderSummary(buildSummary(input), next)).not.toContain("given up");
    const givenUp = {
      ...input,
      ingest: { ...input.ingest, eventsGivenUp: { unauthorized: 2, "not-found": 0 } },
    };
    expect(renderSummary(buildSummary(givenUp), next)).toMatch(
      /events given up\s+2\s+unauthorized 2 \(failed past INGEST_RETRY_GIVE_UP_SECONDS/,
    );
  });
});
