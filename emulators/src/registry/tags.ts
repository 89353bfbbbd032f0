/**
 * The local registry's content: repositories, which generation each tag is at, and every manifest
 * ever served by digest (moving a tag leaves its old manifests pullable by digest, as in a real
 * registry until garbage collection).
 */
import { referenceWords } from "../qscanner-sim/simulation.ts";
import { registryImageOf } from "./imageRef.ts";
import { type Manifest, type TaggedManifests, taggedManifests } from "./manifests.ts";

export interface PushedTag {
  /** `<repository>:<tag>`, the repository named as on the local registry. */
  ref: string;
  generation: number;
  /** The tag's digest now (its index's). */
  digest: string;
}

export class TagStore {
  readonly #repositories = new Set<string>();
  /** `<repository>:<tag>` → generation. */
  readonly #tags = new Map<string, number>();
  /** `<repository>@<digest>` → manifest. */
  readonly #byDigest = new Map<string, Manifest>();

  /**
   * Serves the tags of `refs` at generation 1. Refs that are not servable are skipped, and so are
   * tags of refs with the word `notfound` in their name or tag (the qscanner simulator's convention
   * for a deleted tag), though their repository is known.
   */
  constructor(refs: readonly string[]) {
    for (const ref of refs) {
      const image = registryImageOf(ref);
      if (!image) continue;
      this.#repositories.add(image.repository);
      if (image.tag !== undefined && !referenceWords(ref).includes("notfound")) {
        this.#store(image.repository, image.tag, 1);
      }
    }
  }

  /** Points the tag of `ref` at new content (generation + 1), creating it if needed, as a push does. */
  push(ref: string): PushedTag {
    const image = registryImageOf(ref);
    if (!image || image.tag === undefined || image.digest !== undefined) {
      throw new Error(
        `cannot push ${JSON.stringify(ref)}: expected a servable reference with a tag and no digest`,
      );
    }
    this.#repositories.add(image.repository);
    const key = `${image.repository}:${image.tag}`;
    const generation = (this.#tags.get(key) ?? 0) + 1;
    const { index } = this.#store(image.repository, image.tag, generation);
    return { ref: key, generation, digest: index.digest };
  }

  hasRepository(repository: string): boolean {
    return this.#repositories.has(repository);
  }

  /** What a tag points at now; undefined for a tag the registry does not have. */
  tag(repository: string, tag: string): TaggedManifests | undefined {
    const generation = this.#tags.get(`${repository}:${tag}`);
    return generation === undefined ? undefined : taggedManifests(repository, tag, generation);
  }

  byDigest(repository: string, digest: string): Manifest | undefined {
    return this.#byDigest.get(`${repository}@${digest}`);
  }

  #store(repository: string, tag: string, generation: number): TaggedManifests {
    this.#tags.set(`${repository}:${tag}`, generation);
    const manifests = taggedManifests(repository, tag, generation);
    for (const manifest of [manifests.index, manifests.image]) {
      this.#byDigest.set(`${repository}@${manifest.digest}`, manifest);
    }
    return manifests;
  }
}
