import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type OutputFile, parseScanReport, ReportError } from "../../src/core/report.ts";

const fixtures = join(import.meta.dirname, "..", "fixtures", "qscanner");
const load = (layout: string): OutputFile[] =>
  readdirSync(join(fixtures, layout)).map((name) => ({
    name,
    content: readFileSync(join(fixtures, layout, name), "utf8"),
  }));

describe("qscanner report parsing", () => {
  it("counts findings per severity once per QID and reads digest and Qualys image IDs", () => {
    const report = parseScanReport(load("target-layout"), "checkout/api");
    expect(report).toEqual({
      digest: "sha256:4406a5e86f1d2f0e35ddb8b2e7d0fd19b6c6c8a7f7a0a0c2f5a8c3b81e1e1e53",
      imageId: "2f6a1c7e9b04",
      imageSha: "2f6a1c7e9b04d3a85c6e0f1b27d94a63c8e5f0a1b2c3d4e5f60718293a4b5c6d",
      qscannerVersion: "4.8.0-2",
      vulnerabilities: { critical: 1, high: 1, medium: 1, low: 1, informational: 1, total: 5 },
    });
  });

  it("falls back to the ScanResult layout with ImageMetadata when SARIF has no image properties", () => {
    const report = parseScanReport(load("image-metadata-layout"), "library/alpine");
    expect(report).toEqual({
      digest: "sha256:beefed000000000000000000000000000000000000000000000000000000cafe",
      imageId: "9c8d7e6f5a4b",
      qscannerVersion: "4.6.0-4",
      vulnerabilities: { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 },
    });
  });

  it("takes the repo digest of the scanned repository among several", () => {
    const files = load("target-layout").map((file) =>
      file.name.endsWith(".sarif.json")
        ? { ...file, content: file.content.replace(/"imageDigest": "[^"]+",/, "") }
        : file,
    );
    expect(parseScanReport(files, "checkout/api").digest).toBe(
      "sha256:4406a5e86f1d2f0e35ddb8b2e7d0fd19b6c6c8a7f7a0a0c2f5a8c3b81e1e1e53",
    );
    expect(parseScanReport(files, "other/mirror").digest).toBe(`sha256:${"1".repeat(64)}`);
  });

  it("names the files it found when the SARIF report is missing", () => {
    const files = load("target-layout").filter((file) => file.name.endsWith("ScanResult.json"));
    expect(() => parseScanReport(files, "checkout/api")).toThrow(
      /no \*-Report\.sarif\.json in the output directory \(files: sha256_2f6a1c7e9b04-ScanResult\.json\)/,
    );
    expect(() => parseScanReport([], "x")).toThrow(/files: none/);
  });

  it("rejects a report that is not JSON, has no runs, or a finding without severity", () => {
    const sarif = (content: string): OutputFile[] => [{ name: "a-Report.sarif.json", content }];
    expect(() => parseScanReport(sarif("{oops"), "x")).toThrow(ReportError);
    expect(() => parseScanReport(sarif("{}"), "x")).toThrow(/no "runs" array/);
    expect(() =>
      parseScanReport(sarif(JSON.stringify({ runs: [{ results: [{ ruleId: "1" }] }] })), "x"),
    ).toThrow(/finding 1 has no Qualys severity/);
  });

  it("uses a result's own severity when its rule has none", () => {
    const content = JSON.stringify({
      runs: [{ results: [{ ruleId: "7", properties: { severity: 4 } }], properties: { imageID: "abc" } }],
    });
    const report = parseScanReport([{ name: "a-Report.sarif.json", content }], "x");
    expect(report.vulnerabilities.high).toBe(1);
    expect(report.imageId).toBeUndefined();
  });
});
