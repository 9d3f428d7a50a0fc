/**
 * Generated `--env` names and `--image` references, hostile ones included: a validator either accepts
 * (and then the value has the shape every consumer assumes) or refuses with a UsageError naming the
 * flag. Never another error. The image grammar is the one infra/config.ts checks kiln:trainer with.
 */
import fc from "fast-check";
import {
  imageReferenceProblem,
  MOVING_TAGS,
  repositoryProblem,
  splitImageReference,
  tagProblem,
} from "../../contract/oci";
import { FRAMEWORK_ENV } from "../../contract/workload";
import { UsageError } from "../../cli/src/errors";
import { envNameProblem, parseEnvFlags, validateImage } from "../../cli/src/image-flags";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);

const refusal = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return e.message;
  }
};

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);
const reserved = fc.oneof(
  identifier.map((s) => `KILN_${s}`),
  fc.constantFrom(...FRAMEWORK_ENV),
);

describe("--env names", () => {
  test("a C identifier that is not reserved is accepted, with its value kept byte for byte", () => {
    fc.assert(
      fc.property(
        identifier.filter((n) => !n.startsWith("KILN_") && !(FRAMEWORK_ENV as readonly string[]).includes(n)),
        fc.string(),
        (name, value) => {
          expect(envNameProblem(name)).toBeUndefined();
          expect(parseEnvFlags([`${name}=${value}`])).toEqual([{ name, value }]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("KILN_* and the framework names are refused as reserved, naming --env", () => {
    fc.assert(
      fc.property(reserved, fc.string(), (name, value) => {
        expect(refusal(() => parseEnvFlags([`${name}=${value}`]))).toMatch(new RegExp(`^--env ${name} is reserved`));
      }),
      { numRuns: RUNS },
    );
  });

  test("anything else is refused naming --env; no other error is thrown", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((n) => !n.includes("=")),
        fc.string({ maxLength: 10 }),
        (name, value) => {
          const msg = refusal(() => parseEnvFlags([`${name}=${value}`]));
          const ok = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && envNameProblem(name) === undefined;
          if (ok) expect(msg).toBeUndefined();
          else expect(msg).toMatch(/^--env /);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

const component = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const separator = fc.constantFrom(".", "_", "__", "-", "--");
const pathComponent = fc
  .tuple(component, fc.option(fc.tuple(separator, component), { nil: undefined }))
  .map(([a, rest]) => (rest ? `${a}${rest[0]}${rest[1]}` : a));
const domain = fc.oneof(
  fc.constantFrom(
    "registry.example.com",
    "localhost:5000",
    "123456789012.dkr.ecr.us-west-2.amazonaws.com",
    "[::1]:5000",
    "ghcr.io",
  ),
  fc.stringMatching(/^[a-z][a-z0-9]{0,8}\.[a-z]{2,5}$/),
);
const repository = fc
  .tuple(fc.option(domain, { nil: undefined }), fc.array(pathComponent, { minLength: 1, maxLength: 3 }))
  .map(([d, path]) => `${d ? `${d}/` : ""}${path.join("/")}`);
const pinnedTag = fc
  .stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/)
  .filter((t) => !MOVING_TAGS.has(t.toLowerCase()));
const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);

describe("--image references", () => {
  test("grammar-built references pinned by a tag or a digest are accepted and split back into their parts", () => {
    fc.assert(
      fc.property(
        repository,
        fc.option(pinnedTag, { nil: undefined }),
        fc.option(digest, { nil: undefined }),
        (repo, tag, dig) => {
          fc.pre(tag !== undefined || dig !== undefined);
          const ref = `${repo}${tag !== undefined ? `:${tag}` : ""}${dig !== undefined ? `@${dig}` : ""}`;
          expect(imageReferenceProblem(ref)).toBeUndefined();
          expect(splitImageReference(ref)).toEqual({
            repository: repo,
            ...(tag !== undefined ? { tag } : {}),
            ...(dig !== undefined ? { digest: dig } : {}),
          });
          // The config's own checks agree on the parts.
          expect(repositoryProblem(repo)).toBeUndefined();
          if (tag !== undefined) expect(tagProblem(tag)).toBeUndefined();
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("a moving tag (any case) or no tag at all is refused without a digest, naming --image", () => {
    fc.assert(
      fc.property(
        repository,
        fc.constantFrom(...MOVING_TAGS),
        fc.boolean(),
        fc.boolean(),
        (repo, moving, upper, bare) => {
          const ref = bare ? repo : `${repo}:${upper ? moving.toUpperCase() : moving}`;
          expect(refusal(() => validateImage(ref))).toMatch(
            bare ? /^--image .* has no tag, which means 'latest'/ : /^--image '.*' moves with every push/,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("arbitrary text: accepted only when the grammar holds, else refused naming --image; no other error", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.tuple(repository, fc.string({ maxLength: 12 })).map(([r, t]) => `${r}:${t}`),
        ),
        (ref) => {
          const msg = refusal(() => validateImage(ref));
          if (msg === undefined) {
            const { repository: repo, tag, digest: dig } = splitImageReference(ref);
            expect(repositoryProblem(repo)).toBeUndefined();
            expect(tag !== undefined || dig !== undefined).toBe(true);
          } else expect(msg).toMatch(/^--image /);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test.each([
    ["ML/train:1.0", /is not an image repository/],
    ["ml/train:1.0@sha256:abc", /is not a sha256 digest: 64 lowercase hex digits/],
    ["ml/train:1.0@@sha256:x", /more than one '@'/],
    ["ml/train:-x", /is not an image tag/],
    ["ml/train :1.0", /holds whitespace/],
    ["", /is empty/],
  ])("%s is refused: %s", (ref, message) => {
    expect(refusal(() => validateImage(ref))).toMatch(message);
  });

  test("a digest pins even a moving tag", () => {
    expect(imageReferenceProblem(`ml/train:latest@sha256:${"a".repeat(64)}`)).toBeUndefined();
  });
});
