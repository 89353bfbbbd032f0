// Secrets in qscanner's console output are removed before the output is shortened, so a secret cut
// at the edge cannot leave a fragment the redactor no longer recognises.
import { parseImageRef, SecretRedactor } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { scanImage } from "../../src/core/scanImage.ts";
import { ScriptedQscanner } from "../support/fakes.ts";

/** 51 characters with no recognisable shape: only its registration lets the redactor find it. */
const SECRET = "Qk7vT2xR9mPz4LwN8sYb3HcJ6fGd1ZqE5uVa0XoKi2WnBp7Ms4T";

/** Every 8-character piece of the secret: none may survive. */
const fragments = (secret: string) =>
  Array.from({ length: secret.length - 7 }, (_, index) => secret.slice(index, index + 8));

describe("a failing qscanner's error line", () => {
  it("is redacted before it is cut to 299 characters, so a secret straddling the cut leaves nothing", async () => {
    const redactor = new SecretRedactor();
    redactor.addSecret(SECRET);
    // The secret starts at character 270 of the line: the cut at 299 falls inside it.
    const line = `ERROR registry said: ${"x".repeat(249)}${SECRET} and more text after it`;
    expect(line.indexOf(SECRET)).toBe(270);
    const qscanner = new ScriptedQscanner([{ exitCode: 1, output: `starting\n${line}\n` }]);

    const attempt = await scanImage(qscanner, {
      image: parseImageRef("docker.io/library/nginx:1.27"),
      pod: "US2",
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      redact: (text) => redactor.redact(text),
    });

    expect(attempt.kind).toBe("failed");
    const message = attempt.kind === "failed" ? attempt.failure.message : "";
    expect(message).toContain("[REDACTED]");
    for (const fragment of fragments(SECRET)) expect(message).not.toContain(fragment);
  });
});
