import { describe, expect, it } from "vitest";
import { ImageRefError, isCanonicalImageRef, parseImageRef, tryParseImageRef } from "../../src/imageRef.ts";

const DIGEST = `sha256:${"a1b2c3d4".repeat(8)}`;

describe("parseImageRef", () => {
  it.each([
    [
      "nginx",
      {
        ref: "docker.io/library/nginx:latest",
        registry: "docker.io",
        repository: "library/nginx",
        tag: "latest",
      },
    ],
    [
      "nginx:1.25",
      {
        ref: "docker.io/library/nginx:1.25",
        registry: "docker.io",
        repository: "library/nginx",
        tag: "1.25",
      },
    ],
    [
      "library/nginx",
      {
        ref: "docker.io/library/nginx:latest",
        registry: "docker.io",
        repository: "library/nginx",
        tag: "latest",
      },
    ],
    [
      "docker.io/nginx",
      {
        ref: "docker.io/library/nginx:latest",
        registry: "docker.io",
        repository: "library/nginx",
        tag: "latest",
      },
    ],
    [
      "index.docker.io/library/nginx",
      {
        ref: "docker.io/library/nginx:latest",
        registry: "docker.io",
        repository: "library/nginx",
        tag: "latest",
      },
    ],
    [
      "fluent/fluent-bit:3.1",
      {
        ref: "docker.io/fluent/fluent-bit:3.1",
        registry: "docker.io",
        repository: "fluent/fluent-bit",
        tag: "3.1",
      },
    ],
    [
      "localhost:5000/app",
      { ref: "localhost:5000/app:latest", registry: "localhost:5000", repository: "app", tag: "latest" },
    ],
    [
      "localhost/app",
      { ref: "localhost/app:latest", registry: "localhost", repository: "app", tag: "latest" },
    ],
    [
      "myreg.azurecr.io/team/app:v1",
      {
        ref: "myreg.azurecr.io/team/app:v1",
        registry: "myreg.azurecr.io",
        repository: "team/app",
        tag: "v1",
      },
    ],
    [
      "mcr.microsoft.com/dotnet/runtime:8.0",
      {
        ref: "mcr.microsoft.com/dotnet/runtime:8.0",
        registry: "mcr.microsoft.com",
        repository: "dotnet/runtime",
        tag: "8.0",
      },
    ],
    [
      "[::1]:5000/app",
      { ref: "[::1]:5000/app:latest", registry: "[::1]:5000", repository: "app", tag: "latest" },
    ],
    [
      `app@${DIGEST}`,
      {
        ref: `docker.io/library/app@${DIGEST}`,
        registry: "docker.io",
        repository: "library/app",
        digest: DIGEST,
      },
    ],
    [
      `app:tag@${DIGEST}`,
      {
        ref: `docker.io/library/app@${DIGEST}`,
        registry: "docker.io",
        repository: "library/app",
        tag: "tag",
        digest: DIGEST,
      },
    ],
    [
      "MyReg.AzureCR.io/team/app:V1",
      {
        ref: "myreg.azurecr.io/team/app:V1",
        registry: "myreg.azurecr.io",
        repository: "team/app",
        tag: "V1",
      },
    ],
    [
      "registry.example.com:443/a/b/c_d__e-f.g:1.0-rc_1",
      {
        ref: "registry.example.com:443/a/b/c_d__e-f.g:1.0-rc_1",
        registry: "registry.example.com:443",
        repository: "a/b/c_d__e-f.g",
        tag: "1.0-rc_1",
      },
    ],
  ])("normalises %s", (input, expected) => {
    expect(parseImageRef(input)).toEqual(expected);
  });

  it("keeps only the digest in the canonical reference when both tag and digest are given", () => {
    const image = parseImageRef(`myreg.azurecr.io/app:v2@${DIGEST}`);
    expect(image.ref).toBe(`myreg.azurecr.io/app@${DIGEST}`);
    expect(image.tag).toBe("v2");
  });

  it("is idempotent: parsing a canonical reference returns it unchanged", () => {
    for (const input of ["nginx", "localhost:5000/app", `app:tag@${DIGEST}`, "[::1]:5000/app"]) {
      const { ref } = parseImageRef(input);
      expect(parseImageRef(ref).ref).toBe(ref);
      expect(isCanonicalImageRef(ref)).toBe(true);
    }
    expect(isCanonicalImageRef("nginx")).toBe(false);
  });

  it.each([
    ["", "empty"],
    ["Nginx", "lower-case"],
    ["docker.io/Library/nginx", "lower-case"],
    ["nginx:", "malformed tag"],
    ["nginx:-bad", "malformed tag"],
    [`nginx:${"a".repeat(129)}`, "malformed tag"],
    ["nginx@sha256:abc", "malformed sha256 digest"],
    [`nginx@sha256:${"A".repeat(64)}`, "malformed sha256 digest"],
    ["nginx@md5", "malformed digest"],
    ["nginx@1sha:0123456789abcdef0123456789abcdef", "malformed digest algorithm"],
    ["nginx latest", "whitespace"],
    ["nginx\n", "whitespace or control"],
    ["ngi\u0000nx", "control"],
    ["-rm/rf", "starts with '-'"],
    ["--output=/etc/passwd", "starts with '-'"],
    [`docker.io/${"a/".repeat(130)}b`, "longer than 255"],
    ["x".repeat(2000), "longer than 1024"],
    ["registry.example.com//app", "empty path component"],
    ["app/", "empty path component"],
    ["my_-reg.io:5000/app", "malformed registry host"],
    ["localhost:99999/app", "malformed registry port"],
    ["localhost:port/app", "malformed registry port"],
    ["app__-x", "malformed path component"],
    [":latest", "missing repository"],
    [`a@b@sha256:${"0".repeat(64)}`, "malformed digest"],
  ])("rejects %j (%s)", (input, reason) => {
    const result = tryParseImageRef(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
    expect(() => parseImageRef(input)).toThrow(ImageRefError);
  });

  it("rejects values that are not strings", () => {
    expect(tryParseImageRef(42)).toEqual({ ok: false, reason: "not a string" });
    expect(tryParseImageRef(undefined)).toEqual({ ok: false, reason: "not a string" });
  });

  it("names the input and the reason in the error", () => {
    const error = (() => {
      try {
        parseImageRef("Bad/Name");
      } catch (caught) {
        return caught as ImageRefError;
      }
    })();
    expect(error?.code).toBe("INVALID_IMAGE_REFERENCE");
    expect(error?.message).toBe('invalid image reference "Bad/Name": repository name must be lower-case');
  });
});
