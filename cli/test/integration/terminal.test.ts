import { describe, expect, it } from "vitest";
import { StreamTerminal } from "../../src/adapters/terminal/terminal.ts";

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, write: (text: string) => chunks.push(text), isTTY, columns: 100 };
}

describe("the terminal", () => {
  it("draws a progress bar on stderr when both streams are terminals", () => {
    const [out, err] = [stream(true), stream(true)];
    const progress = new StreamTerminal(out, err).progress("resubmitting", 10, true);
    progress.update(5);
    progress.stop();
    expect(err.chunks.join("")).toContain("resubmitting");
    expect(err.chunks.join("")).toContain("5/10");
    expect(out.chunks).toEqual([]);
  });

  it("draws nothing when stdout is redirected, or for --json", () => {
    for (const [out, enabled] of [
      [stream(false), true],
      [stream(true), false],
    ] as const) {
      const err = stream(true);
      const progress = new StreamTerminal(out, err).progress("resubmitting", 10, enabled);
      progress.update(5);
      progress.stop();
      expect(err.chunks).toEqual([]);
    }
  });

  it("removes secrets from what it prints", () => {
    const [out, err] = [stream(false), stream(false)];
    const terminal = new StreamTerminal(out, err);
    terminal.err("failed: Endpoint=sb://x/;SharedAccessKeyName=root;SharedAccessKey=abcdefghijkl");
    terminal.json({ authorization: "Bearer abcdefghijklmnop" });
    expect(err.chunks.join("")).not.toContain("abcdefghijkl");
    expect(out.chunks.join("")).not.toContain("abcdefghijklmnop");
  });

  it("keeps the colours of the local stack's painted lines and escapes every other control", () => {
    const [out, err] = [stream(true), stream(true)];
    const terminal = new StreamTerminal(out, err);
    terminal.painted("out", "\u001b[36mingest  \u001b[39m | image \u001b]0;title\u0007 \u001b[2J\r");
    terminal.painted("err", "\u001b[1mdev\u001b[22m | \u009b2J");
    expect(out.chunks.join("")).toBe(
      "\u001b[36mingest  \u001b[39m | image \\u001b]0;title\\u0007 \\u001b[2J\\u000d\n",
    );
    expect(err.chunks.join("")).toBe("\u001b[1mdev\u001b[22m | \\u009b2J\n");
  });

  it("writes 64-bit numbers in JSON as strings", () => {
    const out = stream(false);
    new StreamTerminal(out, stream(false)).json({ sequenceNumber: 9_223_372_036_854_775_807n });
    expect(JSON.parse(out.chunks.join(""))).toEqual({ sequenceNumber: "9223372036854775807" });
  });
});
