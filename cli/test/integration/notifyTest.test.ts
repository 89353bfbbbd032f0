// `scanctl notify test` against the webhook sink over HTTP: a sample of each type to each webhook,
// signed, each answer reported; a refusing receiver makes it exit 1; the URL never appears.
import { type RunningWebhookSink, startWebhookSink } from "@qcs/emulators";
import { FINDINGS_NEW, SCAN_FAILED } from "@qcs/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";

const SECRET = "scanctl-notify-test-secret";

describe("scanctl notify test (webhook sink)", () => {
  let sink: RunningWebhookSink;
  beforeAll(async () => {
    sink = await startWebhookSink({ secret: SECRET });
  });
  afterAll(() => sink.close());

  it("posts one sample of each type to each configured webhook and reports the answers", async () => {
    const env = {
      NOTIFY_WEBHOOKS: `cloudevents=${sink.url}/ce,teams=${sink.url}/teams?key=hidden-key-123,slack=${sink.url}/slack`,
      NOTIFY_WEBHOOK_SECRET: SECRET,
    };
    sink.alwaysAnswer(429, "/slack");
    const run = await scanctl(["notify", "test", "--json"], env);
    sink.alwaysAnswer(undefined, "/slack");
    expect(run.code).toBe(1);
    const { results } = run.json<{
      results: Array<{ format: string; type: string; ok: boolean; answer: string }>;
    }>();
    expect(results.map((r) => [r.format, r.type, r.ok, r.answer.split(" ").slice(0, 2).join(" ")])).toEqual([
      ["cloudevents", FINDINGS_NEW, true, "HTTP 200"],
      ["cloudevents", SCAN_FAILED, true, "HTTP 200"],
      ["teams", FINDINGS_NEW, true, "HTTP 200"],
      ["teams", SCAN_FAILED, true, "HTTP 200"],
      ["slack", FINDINGS_NEW, false, "HTTP 429"],
      ["slack", SCAN_FAILED, false, "HTTP 429"],
    ]);
    const received = sink.received();
    expect(received.map((item) => [item.path, item.format, item.signature])).toEqual([
      ["/ce", "cloudevents", "valid"],
      ["/ce", "cloudevents", "valid"],
      ["/teams", "teams", "valid"],
      ["/teams", "teams", "valid"],
      ["/slack", "slack", "valid"],
      ["/slack", "slack", "valid"],
    ]);
    expect(`${run.stdout}${run.stderr}`).not.toContain("hidden-key-123");
  });

  it("takes --webhook instead of NOTIFY_WEBHOOKS and prints a table", async () => {
    const run = await scanctl(["notify", "test", "--webhook", `slack=${sink.url}/other`], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^WEBHOOK\s+TYPE\s+ANSWER/);
    expect(run.stdout).toContain("io.qcs.scan.failed");
    expect(sink.received().filter((item) => item.path === "/other")).toHaveLength(2);
  });
});
