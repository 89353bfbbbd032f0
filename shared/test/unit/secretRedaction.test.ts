// What the redactor and the logger must remove: registered secrets in the escaped form a JSON log
// line gives them, secret keys at any depth, and secrets that a shortened message would cut.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ImageRefError, SecretRedactor, secretRedactor } from "../../src/index.ts";
import { createLogger } from "../../src/runtime.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe("registered secrets in JSON log lines", () => {
  it("are removed when they contain a quote, a backslash or a newline, which the line escapes", () => {
    const secrets = ['pa"ss"word-1', "back\\slash\\secret", "multi\nline\r\nsecret", 'all"of\\them\n\t'];
    const redactor = new SecretRedactor();
    for (const secret of secrets) redactor.addSecret(secret);
    const { lines, destination } = capture();
    const logger = createLogger({ name: "test", format: "json", destination, redactor });
    for (const secret of secrets) logger.warn({ detail: `got ${secret} back` }, `failed with ${secret}`);

    expect(lines).toHaveLength(secrets.length);
    for (const [index, secret] of secrets.entries()) {
      const line = lines[index] ?? "";
      const parsed = JSON.parse(line);
      expect(parsed.detail).toBe("got [REDACTED] back");
      expect(parsed.msg).toBe("failed with [REDACTED]");
      expect(line).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
  });
});

describe("secret keys", () => {
  it("are censored at any depth, in arrays, child bindings and error properties", () => {
    const { lines, destination } = capture();
    const logger = createLogger({
      name: "test",
      format: "json",
      destination,
      redactor: new SecretRedactor(),
    });
    const deep = {
      a: { b: { token: "t0k3n-deep", c: [{ d: { password: "pw-in-array" } }] } },
      config: { storage: { connectionString: "UseDevelopmentStorage=true" } },
      request: { headers: { Authorization: "Negotiate abc", "x-api-key": "key-in-header" } },
      client: { options: { apiKey: "api-key-nested" } },
      kept: { image: "docker.io/library/nginx:1.27" },
    };
    logger.info(deep, "deep");
    logger.child({ upstream: { auth: { authorization: "child-binding-secret" } } }).info("child");
    logger.error(
      { err: Object.assign(new Error("boom"), { response: { body: { token: "err-prop-secret" } } }) },
      "err",
    );

    const output = lines.join("\n");
    for (const secret of [
      "t0k3n-deep",
      "pw-in-array",
      "UseDevelopmentStorage",
      "Negotiate abc",
      "key-in-header",
      "api-key-nested",
      "child-binding-secret",
      "err-prop-secret",
    ]) {
      expect(output).not.toContain(secret);
    }
    const first = JSON.parse(lines[0] ?? "{}");
    expect(first.a.b.token).toBe("[REDACTED]");
    expect(first.a.b.c[0].d.password).toBe("[REDACTED]");
    expect(first.kept.image).toBe("docker.io/library/nginx:1.27");
    expect(JSON.parse(lines[2] ?? "{}").err.message).toBe("boom");
  });

  it("leaves the logged object itself unchanged", () => {
    const { destination } = capture();
    const logger = createLogger({
      name: "test",
      format: "json",
      destination,
      redactor: new SecretRedactor(),
    });
    const details = { nested: { token: "keep-me-in-the-object" } };
    logger.info(details, "logged");
    expect(details.nested.token).toBe("keep-me-in-the-object");
  });
});

describe("an invalid image reference's message", () => {
  it("is redacted before the reference is shortened, so a secret at the cut leaves no fragment", () => {
    const secret = "Qk7vT2xR9mPz4LwN8sYb3HcJ6fGd1ZqE5uVa0XoKi2WnBp7Ms4T";
    secretRedactor.addSecret(secret);
    // The message keeps 117 characters of the input; the secret starts at 100.
    const input = `registry.example/${"a".repeat(83)}${secret}:INVALID TAG`;
    const error = new ImageRefError(input, "invalid tag");
    for (let index = 0; index + 8 <= secret.length; index += 1) {
      expect(error.message).not.toContain(secret.slice(index, index + 8));
    }
  });
});
