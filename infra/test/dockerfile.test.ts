// The Dockerfile, parsed with dockerfile-ast: one target per service on a maintained Node LTS base, non-root,
// production dependencies only, and qscanner fetched and verified at build time, never at run time.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DockerfileParser, ModifiableInstruction } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { readCompose } from "./support/compose.ts";
import { importClosure } from "./support/imports.ts";
import { repoRoot } from "./support/paths.ts";

interface Step {
  keyword: string;
  /** Arguments without flags; flags (`--from=stage`) by name. */
  args: string[];
  flags: Record<string, string>;
  text: string;
}
interface Stage {
  name: string;
  base: string;
  steps: Step[];
}

const dockerfile = DockerfileParser.parse(await readFile(join(repoRoot, "Dockerfile"), "utf8"));
const globalArgs = Object.fromEntries(
  dockerfile.getInitialARGs().map((arg) => [arg.getProperty()?.getName(), arg.getProperty()?.getValue()]),
);
const expand = (value: string) =>
  value.replace(/\$\{(\w+)\}/g, (_, name: string) => globalArgs[name] ?? `\${${name}}`);

const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  const keyword = instruction.getKeyword();
  const args = instruction.getArguments().map((arg) => arg.getValue());
  if (keyword === "FROM") {
    stages.push({ name: args[2] ?? `#${stages.length}`, base: expand(args[0] ?? ""), steps: [] });
  } else {
    const flags =
      instruction instanceof ModifiableInstruction
        ? Object.fromEntries(instruction.getFlags().map((flag) => [flag.getName(), flag.getValue() ?? ""]))
        : {};
    stages.at(-1)?.steps.push({ keyword, args, flags, text: instruction.getRawArgumentsContent() ?? "" });
  }
}
const stage = (name: string): Stage => {
  const found = stages.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
/** The stage and the stages it is built FROM, base first: what ends up in that target's image. */
const chain = (name: string): Stage[] => {
  const own = stage(name);
  return stages.some((candidate) => candidate.name === own.base) ? [...chain(own.base), own] : [own];
};
const stepsOf = (name: string) => chain(name).flatMap((s) => s.steps);
const last = (name: string, keyword: string) =>
  stepsOf(name)
    .filter((step) => step.keyword === keyword)
    .at(-1);
const exec = (step: Step | undefined) => (step ? (JSON.parse(step.text) as string[]) : undefined);

const TARGETS = {
  ingest: "ingest",
  scanner: "scanner",
  recorder: "recorder",
  "scanner-sim": "scanner",
} as const;
const rootManifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8"));

describe("Dockerfile", () => {
  it("builds on the official Node image of the LTS line the project runs on, slim variant", async () => {
    const nodeVersion = String(rootManifest.devDependencies.node).replace(/^[\^~]/, "");
    const base = chain("ingest")[0]?.base;
    expect(base).toBe(`node:${nodeVersion}-trixie-slim`);
    expect(Number(nodeVersion.split(".")[0]) % 2).toBe(0);
    // The compose health probes reuse the same image rather than pulling another.
    const compose = await readCompose("docker-compose.yml");
    expect(compose.services["servicebus-health"]?.image).toBe(base);
  });

  it("has one target per service that runs node services/<service>/src/main.ts", () => {
    for (const [target, service] of Object.entries(TARGETS)) {
      expect(exec(last(target, "CMD"))).toEqual(["node", `services/${service}/src/main.ts`]);
      expect(exec(last(target, "ENTRYPOINT")) ?? []).toSatisfy(
        (entrypoint: string[]) => entrypoint.length === 0 || entrypoint.join(" ") === "/usr/bin/tini --",
      );
      const sources = stepsOf(target)
        .filter((step) => step.keyword === "COPY" && !step.flags.from)
        .map((step) => step.args[0]);
      const otherServices = Object.values(TARGETS).filter((other) => other !== service);
      expect(
        sources.filter((source) => otherServices.some((other) => source?.startsWith(`services/${other}/`))),
      ).toEqual([]);
    }
  });

  it("runs every service target as the unprivileged node user", () => {
    for (const target of Object.keys(TARGETS)) expect(last(target, "USER")?.args).toEqual(["node"]);
  });

  it("installs production dependencies only, exactly as locked, for the service and the shared library", () => {
    const npmRuns = stages
      .flatMap((s) => s.steps)
      .filter((step) => step.keyword === "RUN" && /\bnpm\b/.test(step.text));
    // One per service, and one for the local ARM endpoint's image (emulators, docker-compose only).
    expect(npmRuns.length).toBe(4);
    for (const step of npmRuns) {
      expect(step.text).toMatch(
        /^npm ci --omit=dev --ignore-scripts .*--workspace (shared --workspace services\/\w+|emulators)$/,
      );
    }
    for (const [target, service] of Object.entries(TARGETS)) {
      const copied = stepsOf(target).find(
        (step) => step.keyword === "COPY" && step.args.includes("/app/node_modules"),
      );
      expect(stage(copied?.flags.from ?? "").steps.find((step) => step.keyword === "RUN")?.text).toContain(
        `services/${service}`,
      );
    }
  });

  it("copies every workspace manifest before npm ci, since npm ci checks the whole lockfile", () => {
    const copied = stage("manifests")
      .steps.filter((step) => step.keyword === "COPY")
      .map((step) => step.args[0]);
    const expected = [
      "package.json",
      ...rootManifest.workspaces.map((workspace: string) => `${workspace}/package.json`),
    ];
    for (const manifest of expected) expect(copied).toContain(manifest);
  });

  // One test per service, skipped (saying so) until the service's entry point exists.
  for (const service of ["ingest", "scanner", "recorder"] as const) {
    const entry = `services/${service}/src/main.ts`;
    it.skipIf(!existsSync(join(repoRoot, entry)))(
      `runs ${service} with what its image holds: every file its entry point loads is copied, every package it imports is a production dependency of ${service} or shared${existsSync(join(repoRoot, entry)) ? "" : ` (skipped: no ${entry} yet)`}`,
      async () => {
        const workspaces: Record<string, string> = {};
        for (const workspace of rootManifest.workspaces as string[]) {
          const manifest = JSON.parse(await readFile(join(repoRoot, workspace, "package.json"), "utf8"));
          workspaces[manifest.name] = workspace;
        }
        const closure = await importClosure(entry, workspaces);
        const copied = stepsOf(service)
          .filter((step) => step.keyword === "COPY" && !step.flags.from)
          .flatMap((step) => step.args.slice(0, -1));
        const notCopied = closure.files.filter(
          (file) => !copied.some((source) => file === source || file.startsWith(`${source}/`)),
        );
        expect(notCopied).toEqual([]);
        const production = new Set<string>();
        for (const workspace of ["shared", `services/${service}`]) {
          const manifest = JSON.parse(await readFile(join(repoRoot, workspace, "package.json"), "utf8"));
          for (const name of Object.keys(manifest.dependencies ?? {})) production.add(name);
        }
        const missing = closure.packages
          .filter(({ name }) => !production.has(name))
          .map(({ name, importer }) => `${name} (imported by ${importer})`);
        expect([...new Set(missing)]).toEqual([]);
      },
    );
  }

  it("runs the local ARM endpoint for docker-compose alone, as node, on the port and certificate ingest expects", async () => {
    const command = [
      ...(exec(last("arm-emulator", "ENTRYPOINT")) ?? []),
      ...(exec(last("arm-emulator", "CMD")) ?? []),
    ];
    expect(command.slice(0, 4)).toEqual(["node", "emulators/src/bin.ts", "--only", "arm"]);
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect([flag("--host"), flag("--arm-port"), flag("--arm-cert-name"), flag("--arm-ca-file")]).toEqual([
      "0.0.0.0",
      "8443",
      "arm",
      "/certs/arm-ca.pem",
    ]);
    expect(last("arm-emulator", "USER")?.args).toEqual(["node"]);
    const closure = await importClosure("emulators/src/bin.ts", { "@qcs/emulators": "emulators" });
    const copied = stepsOf("arm-emulator")
      .filter((step) => step.keyword === "COPY" && !step.flags.from)
      .flatMap((step) => step.args.slice(0, -1));
    expect(closure.files.filter((file) => !copied.some((source) => file.startsWith(`${source}/`)))).toEqual(
      [],
    );
    const manifest = JSON.parse(await readFile(join(repoRoot, "emulators/package.json"), "utf8"));
    const missing = closure.packages.filter(({ name }) => !(name in (manifest.dependencies ?? {})));
    expect(missing).toEqual([]);
  });

  it("copies only paths that exist and that .dockerignore lets into the build context", async () => {
    const allowed = (await readFile(join(repoRoot, ".dockerignore"), "utf8"))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("!"))
      .map((line) => line.slice(1).replace(/\/$/, ""));
    const sources = stages
      .flatMap((s) => s.steps)
      .filter((step) => step.keyword === "COPY" && !step.flags.from)
      .flatMap((step) => step.args.slice(0, -1));
    const problems = sources.flatMap((source) => [
      ...(existsSync(join(repoRoot, source)) ? [] : [`${source}: missing`]),
      ...(allowed.some((entry) => source === entry || source.startsWith(`${entry}/`))
        ? []
        : [`${source}: ignored`]),
    ]);
    expect(problems).toEqual([]);
  });

  it("adds qscanner at build time from a build-arg URL, checksum verified, and downloads nothing at run time", () => {
    const download = stage("qscanner-download");
    const declared = download.steps.filter((step) => step.keyword === "ARG").flatMap((step) => step.args);
    expect(declared).toEqual(expect.arrayContaining(["QSCANNER_VERSION", "QSCANNER_URL", "QSCANNER_SHA256"]));
    const fetch = download.steps.find(
      (step) => step.keyword === "RUN" && step.text.includes('"$QSCANNER_URL"'),
    );
    expect(fetch?.text).toMatch(/curl [^;]*--fail[^;]*"\$QSCANNER_URL"/);
    expect(fetch?.text).toMatch(
      /echo "\$\{QSCANNER_SHA256\} {2}\/tmp\/qscanner\.tar\.gz" \| sha256sum --check --strict -/,
    );
    expect(stage("scanner").steps).toContainEqual(
      expect.objectContaining({
        keyword: "COPY",
        flags: { from: "qscanner-download" },
        args: ["/usr/local/bin/qscanner", "/usr/local/bin/qscanner"],
      }),
    );
    for (const target of Object.keys(TARGETS)) {
      const runtime = stepsOf(target).filter((step) =>
        ["RUN", "CMD", "ENTRYPOINT", "ADD"].includes(step.keyword),
      );
      expect(runtime.filter((step) => /\b(curl|wget)\b|https?:\/\/|QSCANNER_URL/.test(step.text))).toEqual(
        [],
      );
    }
    // The simulator target never holds the real binary: the simulator sits at qscanner's path instead.
    expect(chain("scanner-sim").map((s) => s.name)).not.toContain("qscanner-download");
    expect(stage("scanner-sim").steps.map((step) => step.text)).toContain(
      "ln -s /app/emulators/src/qscanner-sim/qscanner.js /usr/local/bin/qscanner",
    );
  });
});
