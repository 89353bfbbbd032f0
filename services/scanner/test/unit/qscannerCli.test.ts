// The unconfirmed qscanner details, pinned: when a real qscanner run proves one wrong, this file and
// src/core/qscannerCli.ts change together.
import { describe, expect, it } from "vitest";
import {
  buildScanArgs,
  classifyExit,
  EXIT_CODE_MEANINGS,
  errorLine,
  isReportFile,
  parseVersionOutput,
  QSCANNER_ENV,
} from "../../src/core/qscannerCli.ts";

describe("qscanner command line", () => {
  const base = {
    pod: "US2",
    imageRef: "contosoprod.azurecr.io/checkout/api:2.4.1",
    outputDir: "/tmp/qscanner-x1",
    scanTimeoutSeconds: 1800,
  };

  it("runs get-report with SARIF into the output directory, image last but for --platform", () => {
    expect(buildScanArgs(base)).toEqual([
      "--pod",
      "US2",
      "--mode",
      "get-report",
      "--scan-types",
      "os,sca,secret",
      "--format",
      "json",
      "--report-format",
      "sarif",
      "--output-dir",
      "/tmp/qscanner-x1",
      "--scan-timeout",
      "1800s",
      "--log-level",
      "info",
      "image",
      "contosoprod.azurecr.io/checkout/api:2.4.1",
      "--platform",
      "linux/amd64",
    ]);
  });

  it("never carries an access token, whatever the options", () => {
    const args = buildScanArgs({ ...base, targetInfo: [["resource_group", "rg"]] });
    expect(args.some((arg) => /token/i.test(arg))).toBe(false);
    expect(QSCANNER_ENV.accessToken).toBe("QUALYS_ACCESS_TOKEN");
  });

  it("adds one --scan-target-info per pair only when asked, and honours scan types and platform", () => {
    const args = buildScanArgs({
      ...base,
      scanTypes: ["pkg"],
      platform: "linux/arm64/v8",
      targetInfo: [
        ["azure_subscription", "sub-1"],
        ["container_type", "ACI"],
      ],
    });
    expect(args.join(" ")).toContain(
      "--scan-target-info azure_subscription=sub-1 --scan-target-info container_type=ACI image",
    );
    expect(args.join(" ")).toContain("--scan-types pkg");
    expect(args.slice(-2)).toEqual(["--platform", "linux/arm64/v8"]);
  });

  it("recognises the report files by their suffixes", () => {
    expect(isReportFile("sha256_2f6a-ScanResult.json")).toBe(true);
    expect(isReportFile("img-Report.sarif.json")).toBe(true);
    expect(isReportFile("img-Report.json")).toBe(false);
    expect(isReportFile("changelist.db")).toBe(false);
  });

  it("reads the version from --version output", () => {
    expect(parseVersionOutput("qscanner version 4.8.0-2\n")).toBe("4.8.0-2");
    expect(parseVersionOutput("QScanner Version v4.6.0-4 (linux/amd64)")).toBe("4.6.0-4");
    expect(parseVersionOutput("usage: qscanner [flags]")).toBeUndefined();
  });
});

describe("qscanner exit classification", () => {
  it("treats exit 40 as a report that is not ready yet", () => {
    expect(classifyExit(40, "ERROR failed to get vulnerability report").failureClass).toBe("ReportNotReady");
  });

  it.each([
    ["ERROR invalid access token: token expired", "QualysAuthFailed"],
    ["ERROR qualys gateway returned 401 Unauthorized", "QualysAuthFailed"],
    ["ERROR GET https://reg/v2/x/manifests/1: TOOMANYREQUESTS: retry later", "RateLimited"],
    ["ERROR unexpected status 429 Too Many Requests", "RateLimited"],
    ["ERROR UNAUTHORIZED: authentication required", "RegistryAuthFailed"],
    ["ERROR DENIED: requested access to the resource is denied", "RegistryAuthFailed"],
    ["ERROR MANIFEST_UNKNOWN: manifest unknown; map[Tag:9.9]", "ImageNotFound"],
    ["ERROR NAME_UNKNOWN: repository name not known to registry", "ImageNotFound"],
    ["ERROR context deadline exceeded", "ScanTimeout"],
    ["ERROR failed to analyze layer: unexpected EOF", "ScannerFailed"],
  ])("classifies %j as %s", (output, failureClass) => {
    expect(classifyExit(6, output).failureClass).toBe(failureClass);
  });

  it("prefers Qualys authentication over registry authentication when both words appear", () => {
    expect(classifyExit(1, "ERROR invalid token: UNAUTHORIZED").failureClass).toBe("QualysAuthFailed");
  });

  it("explains documented codes and admits undocumented ones", () => {
    expect(classifyExit(2, "unknown flag --foo")).toEqual({
      failureClass: "ScannerFailed",
      meaning: "invalid parameter",
    });
    expect(classifyExit(99, "").meaning).toBe("undocumented exit code");
    expect(Object.keys(EXIT_CODE_MEANINGS)).toHaveLength(35);
  });

  it("picks the last error line of the console output", () => {
    const output =
      "INFO  OS detected: debian\nERROR first\nINFO  retrying\nERROR second problem\nINFO  bye\n";
    expect(errorLine(output)).toBe("ERROR second problem");
    expect(errorLine("just one line\n\n")).toBe("just one line");
    expect(errorLine("")).toBeUndefined();
  });
});
