import { describe, expect, it } from "vitest";
import {
  decodeKey,
  encodeKey,
  imageRecordKeys,
  MAX_KEY_LENGTH,
  parseImageRef,
  parseScanMetadataEntity,
  SCAN_TABLES,
  type ScanMetadataEntity,
  scanCacheKey,
  tableKey,
  vulnerabilityCountsOf,
} from "../../src/index.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

/** A ScanMetadata row as the recorder writes it for one successful scan. */
function storedRow(): ScanMetadataEntity {
  const [key] = imageRecordKeys(parseImageRef(`mcr.microsoft.com/dotnet/runtime@${DIGEST}`));
  if (!key) throw new Error("no key");
  return {
    partitionKey: key.partitionKey,
    rowKey: key.rowKey,
    Ref: key.ref,
    Registry: key.registry,
    Repository: key.repository,
    Tag: "8.0",
    Digest: DIGEST,
    Alias: false,
    Status: "succeeded",
    LastScanId: "00000000-0000-4000-8000-000000000001",
    LastScanAt: new Date("2025-03-14T09:10:00.000Z"),
    LastSeenAt: new Date("2025-03-14T09:10:00.000Z"),
    LastSuccessAt: new Date("2025-03-14T09:10:00.000Z"),
    LastSuccessScanId: "00000000-0000-4000-8000-000000000001",
    ScanCount: 1,
    VulnCritical: 1,
    VulnHigh: 2,
    VulnMedium: 3,
    VulnLow: 4,
    VulnInformational: 5,
    VulnTotal: 15,
    ResourceIds: "[]",
    RecentScanIds: "00000000-0000-4000-8000-000000000001",
  };
}

describe("table names", () => {
  it("default to the configured entity names", () => {
    expect(SCAN_TABLES).toEqual({ metadata: "ScanMetadata", history: "ScanHistory" });
  });
});

describe("key encoding", () => {
  it("escapes the characters Table keys forbid and keeps the rest readable", () => {
    expect(encodeKey("dotnet/runtime:8.0")).toBe("dotnet~2Fruntime:8.0");
    expect(encodeKey("a\\b#c?d%e'f~g\u0000h\u007fi\u009fj")).toBe("a~5Cb~23c~3Fd~25e~27f~7Eg~00h~7Fi~9Fj");
    expect(encodeKey(`library/nginx@${DIGEST}`)).toBe(`library~2Fnginx@${DIGEST}`);
  });

  it("round-trips any string", () => {
    for (const value of ["a/b/c:1", "~2F", "%25", "x\ty\nz", "[::1]:5000", "ü/ß#?"]) {
      expect(decodeKey(encodeKey(value))).toBe(value);
    }
  });

  it("produces keys without forbidden characters", () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for exactly these.
    const forbidden = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
    expect(forbidden.test(encodeKey("/\\#?\u0001\u0085"))).toBe(false);
  });

  it("bounds very long keys with a hash suffix that never collides with an ordinary key", () => {
    const long = `${"a/".repeat(400)}b`;
    const key = tableKey(long);
    expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(key).toMatch(/~~[0-9a-f]{64}$/);
    expect(key).not.toMatch(/~[0-9A-F]?$|~[0-9A-F]~~/);
    expect(tableKey(`${long}c`)).not.toBe(key);
    expect(tableKey("short/one")).toBe("short~2Fone");
  });
});

describe("image keys", () => {
  it("keys a tag and digest image by registry, with a digest row and a tag row", () => {
    const keys = imageRecordKeys({
      ...parseImageRef(`mcr.microsoft.com/dotnet/runtime@${DIGEST}`),
      tag: "8.0",
    });
    expect(keys).toEqual([
      {
        kind: "digest",
        ref: `mcr.microsoft.com/dotnet/runtime@${DIGEST}`,
        registry: "mcr.microsoft.com",
        repository: "dotnet/runtime",
        partitionKey: "mcr.microsoft.com",
        rowKey: `dotnet~2Fruntime@${DIGEST}`,
      },
      {
        kind: "tag",
        ref: "mcr.microsoft.com/dotnet/runtime:8.0",
        registry: "mcr.microsoft.com",
        repository: "dotnet/runtime",
        partitionKey: "mcr.microsoft.com",
        rowKey: "dotnet~2Fruntime:8.0",
      },
    ]);
  });

  it("takes the tag from the canonical reference when the image has no tag field", () => {
    const keys = imageRecordKeys({ ref: "docker.io/library/nginx:1.27" });
    expect(keys.map((key) => [key.kind, key.rowKey])).toEqual([["tag", "library~2Fnginx:1.27"]]);
  });

  it("reads the cache by digest when the request has one, else by tag", () => {
    expect(scanCacheKey(parseImageRef(`nginx:1.27@${DIGEST}`)).rowKey).toBe(`library~2Fnginx@${DIGEST}`);
    expect(scanCacheKey(parseImageRef("nginx:1.27")).rowKey).toBe("library~2Fnginx:1.27");
    expect(scanCacheKey(parseImageRef("localhost:5000/team/app")).partitionKey).toBe("localhost:5000");
  });

  it("finds a result recorded with a digest by a lookup on that digest alone", () => {
    const image = { ...parseImageRef(`mcr.microsoft.com/dotnet/runtime@${DIGEST}`), tag: "8.0" };
    const rowKeys = imageRecordKeys(image).map((key) => `${key.partitionKey}|${key.rowKey}`);
    const byDigest = scanCacheKey(parseImageRef(`mcr.microsoft.com/dotnet/runtime@${DIGEST}`));
    const byTag = scanCacheKey(parseImageRef("mcr.microsoft.com/dotnet/runtime:8.0"));
    expect(rowKeys).toContain(`${byDigest.partitionKey}|${byDigest.rowKey}`);
    expect(rowKeys).toContain(`${byTag.partitionKey}|${byTag.rowKey}`);
  });
});

describe("reading stored rows", () => {
  it("accepts dates as Date or ISO text and drops the SDK's extra fields", () => {
    const row = storedRow();
    const stored = { ...row, LastScanAt: "2025-03-14T09:10:00.000Z", etag: 'W/"x"', timestamp: "..." };
    const parsed = parseScanMetadataEntity(stored);
    expect(parsed.LastScanAt).toEqual(new Date("2025-03-14T09:10:00.000Z"));
    expect(parsed).not.toHaveProperty("etag");
  });

  it("rejects a row without the columns the cache check needs", () => {
    expect(() => parseScanMetadataEntity({ partitionKey: "a", rowKey: "b" })).toThrow();
  });
});

describe("vulnerabilityCountsOf", () => {
  it("reads the six count columns of a row", () => {
    expect(vulnerabilityCountsOf(storedRow())).toEqual({
      critical: 1,
      high: 2,
      medium: 3,
      low: 4,
      informational: 5,
      total: 15,
    });
  });

  it("reads no counts from a row that lacks any of them (a skip or failure, or a partial row)", () => {
    expect(vulnerabilityCountsOf({})).toBeUndefined();
    expect(vulnerabilityCountsOf({ ...storedRow(), VulnMedium: undefined })).toBeUndefined();
  });
});
