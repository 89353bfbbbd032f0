/**
 * Exclusions from configuration: case-insensitive globs on resource group names, resource names
 * and image references. The system's own resources are excluded this way so that its deployments
 * never trigger scans of themselves.
 */
import picomatch from "picomatch";

export interface ExclusionGlobs {
  resourceGroups: readonly string[];
  resourceNames: readonly string[];
  /** Matched against the canonical reference and against `registry/repository` without tag or digest. */
  images: readonly string[];
}

export interface Exclusions {
  resourceGroup(name: string): boolean;
  resourceName(name: string): boolean;
  image(image: { ref: string; registry: string; repository: string }): boolean;
}

export function compileExclusions(globs: ExclusionGlobs): Exclusions {
  const resourceGroup = matcher(globs.resourceGroups);
  const resourceName = matcher(globs.resourceNames);
  const image = matcher(globs.images);
  return {
    resourceGroup,
    resourceName,
    image: ({ ref, registry, repository }) => image(ref) || image(`${registry}/${repository}`),
  };
}

export const NO_EXCLUSIONS: Exclusions = compileExclusions({
  resourceGroups: [],
  resourceNames: [],
  images: [],
});

function matcher(globs: readonly string[]): (value: string) => boolean {
  if (globs.length === 0) return () => false;
  return picomatch([...globs], { nocase: true, dot: true });
}
