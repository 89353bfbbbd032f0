import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { redactSecrets, SecretRedactor } from "../../src/index.ts";
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

const SB_KEY = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==";
const CONNECTION = `Endpoint=sb://qcs.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${SB_KEY}`;
const STORAGE =
  "DefaultEndpointsProtocol=https;AccountName=qcs;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5;EndpointSuffix=core.windows.net";
const SAS_URL =
  "https://qcs.blob.core.windows.net/checkpoints?sv=2024-01-01&se=2030-01-01&sig=AbCdEf%2Bghij%3D&sp=r";
const JWT =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";

describe("logger redaction", () => {
  it("removes connection-string keys, SAS signatures, bearer tokens and JWTs from every part of a line", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: "test", destination, redactor: new SecretRedactor() });
    logger.info({ connection: CONNECTION }, `connecting with ${STORAGE}`);
    logger.error({ err: new Error(`send failed for ${SAS_URL}`) }, "failed");
    logger.warn({ headers: { Authorization: `Bearer ${JWT}` }, nested: { deep: { value: JWT } } }, "request");
    const output = lines.join("\n");
    for (const secret of [SB_KEY, "c2VjcmV0a2V5c2VjcmV0a2V5", "AbCdEf%2Bghij%3D", JWT]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain("SharedAccessKey=[REDACTED]");
    expect(output).toContain("Endpoint=sb://qcs.servicebus.windows.net/");
    expect(output).toContain("sig=[REDACTED]");
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ service: "test", level: 30 });
  });

  it("removes registered secret values that have no recognisable shape, and keys known to be secret", () => {
    const { lines, destination } = capture();
    const redactor = new SecretRedactor();
    redactor.addSecret("opaque-api-key-42");
    const logger = createLogger({ name: "test", destination, redactor });
    logger.info({ detail: "key=opaque-api-key-42", token: "short", apiKey: "abc" }, "got opaque-api-key-42");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(lines[0]).not.toContain("opaque-api-key-42");
    expect(line.token).toBe("[REDACTED]");
    expect(line.apiKey).toBe("[REDACTED]");
    expect(line.msg).toBe("got [REDACTED]");
  });

  it("leaves ordinary text alone", () => {
    expect(redactSecrets("scanned docker.io/library/nginx:latest in 412 ms")).toBe(
      "scanned docker.io/library/nginx:latest in 412 ms",
    );
  });
});
