// docker-compose.yml (and the real-scanner override) against the compose-spec JSON schema, plus the rules
// the local stack depends on: health checks, start order, loopback-only ports, Dockerfile targets.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { DockerfileParser } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { parseCompose, readCompose } from "./support/compose.ts";
import { repoRoot } from "./support/paths.ts";

const schema = JSON.parse(await readFile(join(repoRoot, "infra/test/vendor/compose-spec.json"), "utf8"));
// The schema names its meta-schema without the trailing "#" that Ajv registers draft-07 under.
const draft07 = JSON.parse(
  await readFile(join(repoRoot, "node_modules/ajv/dist/refs/json-schema-draft-07.json"), "utf8"),
);
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
const validate = ajv.compile(schema);
const compose = await readCompose("docker-compose.yml");
const qualys = await readCompose("docker-compose.qualys.yml");
const services = compose.services;
const APP_SERVICES = ["ingest", "scanner", "recorder"];

describe("docker-compose.yml", () => {
  it("is valid against the compose-spec schema, and so is docker-compose.qualys.yml", () => {
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    expect(validate(qualys) ? [] : validate.errors).toEqual([]);
  });

  it("is checked by a schema that rejects what Compose rejects", () => {
    const broken = parseCompose(
      "services:\n  a:\n    image: x\n    depends_on:\n      b: { condition: eventually }\n",
    );
    expect(validate(broken)).toBe(false);
  });

  it("runs Microsoft's Service Bus emulator (on SQL Server), Event Hubs emulator and Azurite", () => {
    expect(services.servicebus?.image).toMatch(/^mcr\.microsoft\.com\/azure-messaging\/servicebus-emulator:/);
    expect(services.eventhubs?.image).toMatch(/^mcr\.microsoft\.com\/azure-messaging\/eventhubs-emulator:/);
    expect(services.azurite?.image).toMatch(/^mcr\.microsoft\.com\/azure-storage\/azurite:/);
    expect(services.sqlserver?.image).toMatch(/^mcr\.microsoft\.com\/mssql\/server:/);
    expect(services.servicebus?.environment?.SQL_SERVER).toBe("sqlserver");
    expect(services.servicebus?.environment?.MSSQL_SA_PASSWORD).toBe(
      services.sqlserver?.environment?.MSSQL_SA_PASSWORD,
    );
    expect(services.eventhubs?.environment).toMatchObject({
      BLOB_SERVER: "azurite",
      METADATA_SERVER: "azurite",
    });
  });

  it("health-checks every service; the shell-less emulators through a probe of their /health endpoint", () => {
    const unchecked = Object.entries(services).filter(([name, service]) => {
      if (service.healthcheck) return false;
      const probe = services[`${name}-health`]?.healthcheck?.test;
      return !JSON.stringify(probe ?? "").includes(`http://${name}:5300/health`);
    });
    expect(unchecked.map(([name]) => name)).toEqual([]);
  });

  it("starts a service only when what it depends on is healthy (or, for a probed emulator, started)", () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency];
        if (!target) problems.push(`${name} depends on unknown ${dependency}`);
        else if (target.healthcheck && condition !== "service_healthy") {
          problems.push(`${name} waits for ${dependency} only until ${condition}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(Object.keys(services.ingest?.depends_on ?? {}).sort()).toEqual([
      "arm",
      "azurite",
      "eventhubs-health",
      "servicebus-health",
    ]);
    for (const name of ["scanner", "recorder"]) {
      expect(Object.keys(services[name]?.depends_on ?? {}).sort()).toEqual(["azurite", "servicebus-health"]);
    }
  });

  it("builds the three services from the Dockerfile's targets, the scanner with the simulator by default", async () => {
    const dockerfile = DockerfileParser.parse(await readFile(join(repoRoot, "Dockerfile"), "utf8"));
    const stages = new Set(dockerfile.getFROMs().map((from) => from.getBuildStage()));
    const targets = Object.fromEntries(APP_SERVICES.map((name) => [name, services[name]?.build?.target]));
    expect(targets).toEqual({ ingest: "ingest", scanner: "scanner-sim", recorder: "recorder" });
    expect(services.arm?.build?.target).toBe("arm-emulator");
    for (const target of [
      ...Object.values(targets),
      "arm-emulator",
      qualys.services.scanner?.build?.target,
    ]) {
      expect(stages).toContain(target);
    }
  });

  it("publishes ports on the loopback interface only", () => {
    const exposed = Object.values(services)
      .flatMap((service) => service.ports ?? [])
      .filter((port) => !port.startsWith("127.0.0.1:"));
    expect(exposed).toEqual([]);
  });

  it("swaps in the real qscanner, built from a verified download, with the token as a secret file", () => {
    const scanner = qualys.services.scanner;
    expect(scanner?.build?.target).toBe("scanner");
    expect(Object.keys(scanner?.build?.args ?? {}).sort()).toEqual([
      "QSCANNER_SHA256",
      "QSCANNER_URL",
      "QSCANNER_VERSION",
    ]);
    expect(scanner?.environment).toMatchObject({
      QUALYS_ACCESS_TOKEN: null,
      QUALYS_ACCESS_TOKEN_FILE: "/run/secrets/qualys_access_token",
    });
    expect(scanner?.secrets).toEqual(["qualys_access_token"]);
    expect(qualys.secrets).toEqual({ qualys_access_token: { environment: "QUALYS_ACCESS_TOKEN" } });
  });

  it("resolves deployments through the local ARM endpoint, trusting the certificate it shares on a volume", () => {
    const arm = services.arm;
    expect(arm?.volumes).toContain("arm-certs:/certs");
    expect(services.ingest?.volumes).toContain("arm-certs:/certs:ro");
    // Defaults, each overridable from the environment (`${NAME:-default}`).
    expect(services.ingest?.environment?.ARM_ENDPOINT).toMatch(/^\$\{ARM_ENDPOINT:-https:\/\/arm:8443\}$/);
    expect(services.ingest?.environment?.ARM_CA_FILE).toMatch(/^\$\{ARM_CA_FILE-\/certs\/arm-ca\.pem\}$/);
    expect(compose.volumes).toHaveProperty("arm-certs");
    expect(arm?.ports).toEqual(["127.0.0.1:8443:8443"]);
  });
});
