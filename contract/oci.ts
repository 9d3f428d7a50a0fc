/**
 * The OCI distribution reference grammar (github.com/distribution/reference): what an image reference
 * is, and which ones Kiln refuses because they move. Kiln's config takes a repository and a tag apart
 * (kiln:trainer, kiln:accountant); `kubectl kiln submit --image` takes a whole reference. Both check
 * here, so the two can never disagree on what a pinned image is.
 */

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** `algorithm:encoded` (OCI image spec, descriptor digests); sha256 and sha512 are checked for length. */
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const DIGEST_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
/** Tags that move: a run must name an image that stays the same. */
export const MOVING_TAGS: ReadonlySet<string> = new Set(["latest", "main", "master", "stable", "edge", "nightly"]);
/** Longest repository name registries accept. */
export const MAX_REPOSITORY = 255;

/** At most the first `max` characters of user input ("..." marks a cut). */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...` : text);
const quote = (v: string) => `'${clip(v, 60)}'`;

/** Why `repo` is not an image repository, or undefined. */
export function repositoryProblem(repo: string): string | undefined {
  if (repo.includes("@"))
    return `${quote(repo)} holds a digest: give the repository only and pin it with kiln:trainer.tag`;
  const lastSlash = repo.lastIndexOf("/");
  if (repo.slice(lastSlash + 1).includes(":"))
    return `${quote(repo)} holds a tag: give the repository only and set kiln:trainer.tag`;
  return repositoryShapeProblem(repo);
}

function repositoryShapeProblem(repo: string): string | undefined {
  if (repo.length > MAX_REPOSITORY)
    return `is ${repo.length} characters long; registries accept at most ${MAX_REPOSITORY}`;
  if (!REPOSITORY.test(repo)) return notARepository(repo);
  return undefined;
}

const notARepository = (repo: string) =>
  `${quote(repo)} is not an image repository: [registry[:port]/]path, path components of lowercase letters and digits separated by '.', '_', '__' or '-' (e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln/trainer)`;

/** Why `tag` is not a pinned image tag, or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (tag.includes("@") || tag.includes(":"))
    return `${quote(tag)} is not a tag (a digest or a second reference does not belong here): use a release tag such as 0.1.0`;
  return tagShapeProblem(tag) ?? movingTagProblem(tag);
}

function tagShapeProblem(tag: string): string | undefined {
  if (!TAG.test(tag))
    return `${quote(tag)} is not an image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'`;
  return undefined;
}

function movingTagProblem(tag: string): string | undefined {
  if (MOVING_TAGS.has(tag.toLowerCase()))
    return `${quote(tag)} moves with every push: pin a release tag such as 0.1.0 (${[...MOVING_TAGS].join(", ")} are refused in any case)`;
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `${quote(digest)} is not a digest: algorithm:hex, e.g. sha256:<64 hex digits>`;
  const [algorithm, encoded] = [digest.slice(0, digest.indexOf(":")), digest.slice(digest.indexOf(":") + 1)];
  const want = DIGEST_LENGTHS[algorithm];
  if (want !== undefined && !new RegExp(`^[a-f0-9]{${want}}$`).test(encoded))
    return `${quote(digest)} is not a ${algorithm} digest: ${want} lowercase hex digits after '${algorithm}:'`;
  return undefined;
}

/**
 * A first component is a registry only when it looks like one (a '.', a ':' port, `localhost`, an IPv6
 * literal), as container runtimes read it (distribution/reference's splitDockerDomain); otherwise it is a
 * path component and must be lowercase: `ML/train` is refused, not read as registry `ML`.
 */
function uppercasePathProblem(repo: string): string | undefined {
  const slash = repo.indexOf("/");
  const first = slash < 0 ? repo : repo.slice(0, slash);
  const isDomain =
    slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["));
  if (!isDomain && first !== first.toLowerCase()) return notARepository(repo);
  return undefined;
}

/** The parts of a whole image reference. */
export interface ImageReference {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** `[registry[:port]/]path[:tag][@algorithm:hex]` taken apart, without checking the parts. */
export function splitImageReference(ref: string): ImageReference {
  const at = ref.indexOf("@");
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const colon = name.lastIndexOf(":");
  const hasTag = colon > name.lastIndexOf("/");
  return {
    repository: hasTag ? name.slice(0, colon) : name,
    ...(hasTag ? { tag: name.slice(colon + 1) } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/**
 * Why `ref` is not a pinned image reference, or undefined: it must follow the OCI grammar and carry a
 * tag that does not move, or a digest (with a digest any tag is only a label, so a moving one is allowed).
 * No tag at all means `latest` to a container runtime, and is refused like it.
 */
export function imageReferenceProblem(ref: string): string | undefined {
  if (ref.trim() === "") return "is empty: give an image such as registry.example.com/team/train:1.4.2";
  if (/\s/.test(ref)) return `${quote(ref)} holds whitespace: an image reference has none`;
  if (ref.split("@").length > 2)
    return `${quote(ref)} holds more than one '@': [registry[:port]/]path[:tag][@sha256:<digest>]`;
  const { repository, tag, digest } = splitImageReference(ref);
  const repoProblem = repositoryShapeProblem(repository) ?? uppercasePathProblem(repository);
  if (repoProblem) return repoProblem;
  if (tag !== undefined) {
    const p = tagShapeProblem(tag);
    if (p) return p;
  }
  if (digest !== undefined) return digestProblem(digest);
  if (tag === undefined)
    return `${quote(ref)} has no tag, which means 'latest' and moves with every push: pin a release tag (${repository}:1.0.0) or a digest (${repository}@sha256:...)`;
  return movingTagProblem(tag);
}
