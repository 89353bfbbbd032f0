import { describe, expect, it } from "vitest";
import {
  age,
  imagePath,
  rescanCommand,
  resubmitCommand,
  shellWord,
  withQuery,
} from "../../src/pages/format.ts";
import { safeNext } from "../../src/pages/session.ts";

describe("safeNext", () => {
  it("keeps a path on this site and sends anything else to the overview", () => {
    expect(safeNext("/images?state=failing")).toBe("/images?state=failing");
    expect(safeNext("/images/docker.io/library/nginx:1.27")).toBe("/images/docker.io/library/nginx:1.27");
    for (const elsewhere of [
      "//evil.example",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "/login",
      "/a b",
      undefined,
      42,
    ]) {
      expect(safeNext(elsewhere), String(elsewhere)).toBe("/");
    }
  });
});

describe("commands and links on the pages", () => {
  it("prints canonical references bare and quotes anything a shell would read", () => {
    expect(rescanCommand("myreg.azurecr.io/team/app@sha256:ab12")).toBe(
      "scanctl rescan --force myreg.azurecr.io/team/app@sha256:ab12",
    );
    expect(resubmitCommand("ImageNotFound", "ghcr.io")).toBe(
      "scanctl dlq resubmit --reason ImageNotFound --registry ghcr.io",
    );
    expect(shellWord("it's $(bad)")).toBe("'it'\\''s $(bad)'");
  });

  it("links an image by its reference and drops empty filters from a query", () => {
    expect(imagePath("localhost:5000/app:1")).toBe("/images/localhost:5000/app:1");
    expect(withQuery("/images", { state: "failing", registry: undefined, after: "a/b:1" })).toBe(
      "/images?state=failing&after=a%2Fb%3A1",
    );
  });

  it("says how long ago, in the unit a person reads", () => {
    const now = Date.parse("2026-12-02T12:00:00Z");
    expect(age(undefined, now)).toBe("never");
    expect(age(new Date(now - 20_000), now)).toBe("just now");
    expect(age(new Date(now - 90 * 60_000), now)).toBe("90 min ago");
    expect(age(new Date(now - 30 * 3_600_000), now)).toBe("30 h ago");
    expect(age(new Date(now - 72 * 3_600_000), now)).toBe("3 d ago");
  });
});
