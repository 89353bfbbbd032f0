/**
 * The manifests the local registry serves, derived from nothing but the image reference and the
 * tag's generation (how often it was pushed), so that every run and every process computes the same
 * digests. A tag points at an image index (a manifest list) with one linux/amd64 image manifest, as
 * multi-arch images do. Docker Hub images use Docker's media types, every other host OCI's, so
 * that clients meet both.
 */
import { createHash } from "node:crypto";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** OCI's annotation for the name of a reference, here the tag an index was pushed as. */
export const TAG_ANNOTATION = "org.opencontainers.image.ref.name";

export interface Manifest {
  mediaType: string;
  /** The exact bytes served; the digest is their sha256. */
  body: string;
  digest: string;
}

/** What a tag of one generation points at: the index, and the image manifest it lists. */
export interface TaggedManifests {
  index: Manifest;
  image: Manifest;
}

const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

function manifest(content: Record<string, unknown>): Manifest {
  const body = JSON.stringify(content);
  return { mediaType: String(content.mediaType), body, digest: sha256(body) };
}

/** The manifests of `repository:tag` at `generation` (1 for the first push). */
export function taggedManifests(repository: string, tag: string, generation: number): TaggedManifests {
  const docker = repository.startsWith("docker.io/");
  const seed = `${repository}:${tag}#${generation}`;
  const blob = (kind: string, mediaType: string) => ({
    mediaType,
    digest: sha256(`${kind}:${seed}`),
    size: 1_000 + (createHash("sha256").update(`size:${kind}:${seed}`).digest()[0] ?? 0) * 100,
  });
  const image = manifest({
    schemaVersion: 2,
    mediaType: docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest,
    config: blob(
      "config",
      docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json",
    ),
    layers: [
      blob(
        "layer",
        docker
          ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
          : "application/vnd.oci.image.layer.v1.tar+gzip",
      ),
    ],
  });
  const index = manifest({
    schemaVersion: 2,
    mediaType: docker ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex,
    // The tag it was pushed as: the qscanner simulator, handed `repo@digest`, reads its behaviour words here.
    annotations: { [TAG_ANNOTATION]: tag },
    manifests: [
      {
        mediaType: image.mediaType,
        digest: image.digest,
        size: Buffer.byteLength(image.body),
        platform: { architecture: "amd64", os: "linux" },
      },
    ],
  });
  return { index, image };
}

export type Negotiated = { ok: true; manifest: Manifest } | { ok: false; message: string };

/**
 * Which manifest answers a request with this `Accept` header, as distribution decides it: the
 * index when accepted (or when the client states no preference); by tag, the platform's image
 * manifest for a client that accepts only image manifests; otherwise "manifest unknown" (a
 * registry does not serve a media type the client says it cannot read).
 */
export function negotiate(
  accept: string | undefined,
  candidates: { manifest: Manifest; platformManifest?: Manifest },
): Negotiated {
  const accepted = (accept ?? "")
    .split(",")
    .map((type) => type.split(";")[0]?.trim() ?? "")
    .filter((type) => type !== "");
  const acceptsAll = accepted.length === 0 || accepted.includes("*/*");
  const { manifest: stored, platformManifest } = candidates;
  if (acceptsAll || accepted.includes(stored.mediaType)) return { ok: true, manifest: stored };
  if (platformManifest && accepted.includes(platformManifest.mediaType)) {
    return { ok: true, manifest: platformManifest };
  }
  const family = stored.mediaType.includes(".oci.") ? "OCI" : "Docker";
  return {
    ok: false,
    message: `${family} manifest found, but accept header does not support ${stored.mediaType}`,
  };
}
