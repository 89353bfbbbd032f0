/**
 * A throw-away certificate for the ARM emulator. The Azure SDK's bearer-token policy refuses to
 * send a token over plain http, so the emulator speaks HTTPS; clients trust this certificate (pass
 * `ca` as the SDK client's `tlsOptions.ca`, or point `NODE_EXTRA_CA_CERTS` at a file holding it).
 */
import { generate } from "selfsigned";

export interface LoopbackCertificate {
  /** PEM certificate; self-signed, so it is also the CA to trust. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/** Valid for localhost, 127.0.0.1, ::1, `host` and, when given, the DNS name `extraName`. */
export async function loopbackCertificate(host: string, extraName?: string): Promise<LoopbackCertificate> {
  const now = new Date();
  const pems = await generate([{ name: "commonName", value: "qcs-arm-emulator" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 30 * 24 * 3_600_000),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
          isIp(host) ? { type: 7, ip: host } : { type: 2, value: host },
          ...(extraName ? [{ type: 2 as const, value: extraName }] : []),
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
