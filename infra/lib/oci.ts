/**
 * The OCI distribution reference grammar for the parts of an image reference Kiln's config takes
 * apart: repository (`[registry[:port]/]path`) and tag. Digests have their own field nowhere: an
 * image is pinned by a release tag.
 */
import { clip } from "./text";

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Tags that move: a run must name an image that stays the same. */
const MOVING_TAGS = new Set(["latest", "main", "master", "stable", "edge", "nightly"]);
/** Longest repository name registries accept. */
export const MAX_REPOSITORY = 255;

const quote = (v: string) => `'${clip(v, 60)}'`;

/** Why `repo` is not an image repository, or undefined. */
export function repositoryProblem(repo: string): string | undefined {
  if (repo.includes("@")) return `${quote(repo)} holds a digest: give the repository only and pin it with kiln:trainer.tag`;
  const lastSlash = repo.lastIndexOf("/");
  if (repo.slice(lastSlash + 1).includes(":")) return `${quote(repo)} holds a tag: give the repository only and set kiln:trainer.tag`;
  if (repo.length > MAX_REPOSITORY) return `is ${repo.length} characters long; registries accept at most ${MAX_REPOSITORY}`;
  if (!REPOSITORY.test(repo))
    return `${quote(repo)} is not an image repository: [registry[:port]/]path, path components of lowercase letters and digits separated by '.', '_', '__' or '-' (e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln/trainer)`;
  return undefined;
}

/** Why `tag` is not a pinned image tag, or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (tag.includes("@") || tag.includes(":")) return `${quote(tag)} is not a tag (a digest or a second reference does not belong here): use a release tag such as 0.1.0`;
  if (!TAG.test(tag)) return `${quote(tag)} is not an image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'`;
  if (MOVING_TAGS.has(tag.toLowerCase())) return `${quote(tag)} moves with every push: pin a release tag such as 0.1.0 (${[...MOVING_TAGS].join(", ")} are refused in any case)`;
  return undefined;
}
