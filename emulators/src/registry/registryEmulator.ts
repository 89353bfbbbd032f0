/**
 * A local OCI registry for digest resolution: `HEAD`/`GET /v2/<repository>/manifests/<tag|digest>`
 * for the images of an ARM inventory, with deterministic digests (manifests.ts), the bearer-token
 * challenge of public registries, ACR's `/oauth2/exchange`, and a way to move a tag to new content.
 * It serves every registry host from one base URL: the repository name is the image's host and
 * path (imageRef.ts), e.g. `/v2/ghcr.io/contoso/app/manifests/1.0`. Manifests only: no blobs, no
 * push API (moving a tag is an admin call), no catalog.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { type ArmResource, readInventoryFile } from "../arm/inventory.ts";
import { FAULTS_ADMIN_PATH, loopbackOnly, registerFaultAdmin } from "../faults/adminRoutes.ts";
import { type FaultRule, Faults } from "../faults/faults.ts";
import { referenceWords } from "../qscanner-sim/simulation.ts";
import { registryImageOf } from "./imageRef.ts";
import { inventoryImageRefs } from "./inventoryImages.ts";
import { type Manifest, negotiate } from "./manifests.ts";
import { type PushedTag, TagStore } from "./tags.ts";
import { TokenIssuer } from "./tokens.ts";

export type { PushedTag } from "./tags.ts";

export interface StartRegistryEmulatorOptions {
  /** Default: 127.0.0.1. */
  host?: string;
  /** Default: 0 (a free port). */
  port?: number;
  /** ARM inventory (file path or documents) whose containers' images are served. */
  inventory?: string | readonly ArmResource[];
  /** Further image references to serve. */
  images?: readonly string[];
  /** The `service` of the token challenge. Default: `qcs-local-registry`. */
  service?: string;
  /** Fault rules active from the start (e.g. from a `--registry-faults` file); match on `path`. */
  faults?: readonly FaultRule[];
}

export interface RegistryRequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Undefined while the request is being answered. */
  status: number | undefined;
}

export interface RunningRegistryEmulator {
  /** `http://<host>:<port>`: the base URL for every registry host's images. */
  url: string;
  port: number;
  service: string;
  /** Injected faults, e.g. `faults.add({ path: "/v2/docker.io/library/nginx/*", status: 429, retryAfterSeconds: 2 })`. */
  faults: Pick<Faults, "add" | "clear" | "list">;
  /** `<url>/_admin/faults`: the same from outside the process. */
  faultsUrl: string;
  /** Every request except admin calls, in order of arrival. */
  requests: readonly RegistryRequestRecord[];
  /** Moves the tag of an image reference to new content (or creates it); `POST /_admin/tags` from outside. */
  push(ref: string): PushedTag;
  /** The digest an image reference's tag resolves to now (its index), or undefined. */
  digestOf(ref: string): string | undefined;
  close(): Promise<void>;
}

export const TAGS_ADMIN_PATH = "/_admin/tags";
const API_VERSION_HEADER = { "docker-distribution-api-version": "registry/2.0" };
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

export async function startRegistryEmulator(
  options: StartRegistryEmulatorOptions = {},
): Promise<RunningRegistryEmulator> {
  const host = options.host ?? "127.0.0.1";
  const service = options.service ?? "qcs-local-registry";
  const resources =
    typeof options.inventory === "string"
      ? await readInventoryFile(options.inventory)
      : (options.inventory ?? []);
  const store = new TagStore([...inventoryImageRefs(resources), ...(options.images ?? [])]);
  const tokens = new TokenIssuer();
  const faults = new Faults();
  for (const rule of options.faults ?? []) faults.add(rule);
  const requests: RegistryRequestRecord[] = [];
  const records = new WeakMap<object, RegistryRequestRecord>();
  const app = Fastify({ logger: false });
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => done(null, new URLSearchParams(String(body))),
  );

  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    if (path.startsWith("/_admin/")) return;
    const record: RegistryRequestRecord = { method: request.method, path, status: undefined };
    records.set(request, record);
    requests.push(record);
    reply.headers(API_VERSION_HEADER);
    const fault = faults.take({ path });
    if (fault?.delayMs !== undefined) await faults.hold(fault.delayMs);
    if (fault?.status !== undefined) {
      if (fault.retryAfterSeconds !== undefined) reply.header("retry-after", String(fault.retryAfterSeconds));
      const code = fault.status === 429 ? "TOOMANYREQUESTS" : fault.status >= 500 ? "UNAVAILABLE" : "UNKNOWN";
      return sendErrors(reply, fault.status, code, `injected fault: HTTP ${fault.status}`);
    }
  });
  app.addHook("onResponse", async (request, reply) => {
    const record = records.get(request);
    if (record) record.status = reply.statusCode;
  });

  const baseOf = (request: FastifyRequest) => `http://${request.headers.host ?? `${urlHost}:${port}`}`;
  const challenge = (request: FastifyRequest, reply: FastifyReply, repository?: string) => {
    const scope = repository === undefined ? "" : `,scope="repository:${repository}:pull"`;
    reply.header(
      "www-authenticate",
      `Bearer realm="${baseOf(request)}/oauth2/token",service="${service}"${scope}`,
    );
    return sendErrors(reply, 401, "UNAUTHORIZED", "authentication required");
  };
  const bearer = (request: FastifyRequest) => {
    const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    return token !== undefined && tokens.isValid(token) ? token : undefined;
  };

  app.get("/v2/", async (request, reply) => (bearer(request) ? reply.send({}) : challenge(request, reply)));

  app.get("/v2/*", async (request, reply) => {
    const match = MANIFEST_PATH.exec(request.url.split("?")[0] ?? "");
    if (!match) return sendErrors(reply, 405, "UNSUPPORTED", "this registry serves manifests only");
    const [, repository = "", reference = ""] = match;
    const token = bearer(request);
    if (token === undefined || !tokens.mayPull(token, repository))
      return challenge(request, reply, repository);
    // The qscanner simulator's word for a registry that refuses this identity.
    if (referenceWords(`${repository}:${reference}`).includes("unauthorized")) {
      return sendErrors(reply, 403, "DENIED", "requested access to the resource is denied");
    }
    if (!store.hasRepository(repository)) {
      return sendErrors(reply, 404, "NAME_UNKNOWN", "repository name not known to registry");
    }
    const tagged = reference.startsWith("sha256:") ? undefined : store.tag(repository, reference);
    const stored = tagged?.index ?? store.byDigest(repository, reference);
    if (!stored) return sendErrors(reply, 404, "MANIFEST_UNKNOWN", "manifest unknown");
    const answer = negotiate(request.headers.accept, {
      manifest: stored,
      ...(tagged ? { platformManifest: tagged.image } : {}),
    });
    if (!answer.ok) return sendErrors(reply, 404, "MANIFEST_UNKNOWN", answer.message);
    return sendManifest(reply, answer.manifest);
  });

  app.get<{ Querystring: { scope?: string | string[] } }>("/oauth2/token", async (request, reply) => {
    const token = tokens.anonymous([request.query.scope ?? []].flat());
    return reply.send({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  });

  app.post<{ Body: URLSearchParams }>("/oauth2/token", async (request, reply) => {
    const form = formOf(request.body);
    if (form.get("grant_type") !== "refresh_token") {
      return sendErrors(reply, 400, "UNSUPPORTED", "grant_type must be refresh_token");
    }
    const token = tokens.fromRefreshToken(form.get("refresh_token") ?? "", form.getAll("scope"));
    if (token === undefined) return sendErrors(reply, 401, "UNAUTHORIZED", "invalid refresh token");
    return reply.send({ access_token: token });
  });

  app.post<{ Body: URLSearchParams }>("/oauth2/exchange", async (request, reply) => {
    const form = formOf(request.body);
    if (form.get("grant_type") !== "access_token") {
      return sendErrors(reply, 400, "UNSUPPORTED", "grant_type must be access_token");
    }
    // Like the ARM emulator, any Entra token is accepted; it must be there.
    if (!form.get("access_token") || !form.get("service")) {
      return sendErrors(reply, 400, "UNAUTHORIZED", "access_token and service are required");
    }
    return reply.send({ refresh_token: tokens.refreshToken() });
  });

  app.post<{ Body: { ref?: unknown } }>(
    TAGS_ADMIN_PATH,
    { preHandler: loopbackOnly },
    async (request, reply) => {
      const ref = request.body?.ref;
      if (typeof ref !== "string")
        return reply.code(400).send({ error: 'expected {"ref": "<image reference>"}' });
      try {
        return reply.send(store.push(ref));
      } catch (error) {
        return reply.code(400).send({ error: (error as Error).message });
      }
    },
  );
  registerFaultAdmin(app, faults);

  app.setNotFoundHandler(async (_request, reply) => sendErrors(reply, 404, "NOT_FOUND", "not found"));

  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  return {
    url,
    port,
    service,
    faults,
    faultsUrl: `${url}${FAULTS_ADMIN_PATH}`,
    requests,
    push: (ref) => store.push(ref),
    digestOf: (ref) => {
      const image = registryImageOf(ref);
      return image?.tag === undefined ? undefined : store.tag(image.repository, image.tag)?.index.digest;
    },
    close: async () => {
      faults.clear();
      await app.close();
    },
  };
}

function formOf(body: unknown): URLSearchParams {
  return body instanceof URLSearchParams ? body : new URLSearchParams();
}

function sendManifest(reply: FastifyReply, manifest: Manifest): FastifyReply {
  return (
    reply
      .header("content-type", manifest.mediaType)
      .header("docker-content-digest", manifest.digest)
      .header("etag", `"${manifest.digest}"`)
      // A Buffer, so that fastify adds no charset: clients compare the media type exactly.
      .send(Buffer.from(manifest.body))
  );
}

/** The distribution API's error body. */
function sendErrors(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ errors: [{ code, message, detail: null }] });
}
