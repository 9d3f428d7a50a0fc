/**
 * The GitHub Actions workflows, parsed with `yaml`: triggers and path filters, least-privilege
 * permissions (id-token: write only in the jobs that assume a role), actions pinned to commit SHAs,
 * per-PR concurrency, no stored secrets, and the steps the issue asks for.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { toolBinDir } from "../support/tools";

const ROOT = path.resolve(__dirname, "../..");
const DIR = path.join(ROOT, ".github/workflows");

type Step = {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
};
type Job = {
  name?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
  env?: Record<string, string>;
};
type Workflow = {
  name: string;
  on: Record<string, any>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": unknown };
  jobs: Record<string, Job>;
  env?: Record<string, string>;
};

const FILES = ["preview.yml", "ci.yml", "plan-comment.yml", "trainer-image.yml", "accountant-image.yml"];
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");
const wf = (f: string) => YAML.parse(text(f)) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const stepUsing = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");

describe("all workflows", () => {
  test("exactly the expected workflow files exist and parse", () => {
    expect(
      fs
        .readdirSync(DIR)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort(),
    ).toEqual([...FILES].sort());
    for (const f of FILES) expect(wf(f).jobs).toBeDefined();
  });

  test.each(FILES)("%s: every action is pinned to a full commit SHA with a version comment", (f) => {
    const lines = text(f)
      .split("\n")
      .filter((l) => /^\s*-?\s*uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  test("the same action is pinned to the same SHA everywhere", () => {
    const pins = new Map<string, Set<string>>();
    for (const f of FILES)
      for (const s of steps(wf(f)))
        if (s.uses) {
          const [a, sha] = s.uses.split("@");
          pins.set(a, (pins.get(a) ?? new Set()).add(sha));
        }
    for (const [a, shas] of pins) expect({ action: a, pins: shas.size }).toEqual({ action: a, pins: 1 });
  });

  test.each(FILES)("%s: no stored secrets (OIDC and vars only)", (f) => {
    expect(text(f)).not.toMatch(/secrets\./);
    expect(text(f)).not.toMatch(/AWS_SECRET_ACCESS_KEY|aws-secret-access-key|PULUMI_ACCESS_TOKEN/);
  });

  test.each(FILES)("%s: read-only (or no) permissions at the top; write scopes only on jobs", (f) => {
    const w = wf(f);
    expect(w.permissions).toBeDefined();
    for (const v of Object.values(w.permissions ?? {})) expect(v).not.toBe("write");
  });

  test("id-token: write only in the jobs that assume a role, and those jobs do", () => {
    const withIdToken: string[] = [];
    for (const f of FILES)
      for (const [name, job] of Object.entries(wf(f).jobs)) {
        if (job.permissions?.["id-token"] === "write") withIdToken.push(`${f}:${name}`);
        const assumes = job.steps.some(
          (s) =>
            s.uses?.startsWith("aws-actions/configure-aws-credentials@") || s.uses?.startsWith("pulumi/auth-actions@"),
        );
        expect({ job: `${f}:${name}`, idToken: job.permissions?.["id-token"] === "write" }).toEqual({
          job: `${f}:${name}`,
          idToken: assumes,
        });
      }
    expect(withIdToken.sort()).toEqual(["accountant-image.yml:push", "preview.yml:preview", "trainer-image.yml:push"]);
  });

  test.each(FILES)("%s: checkouts do not persist the token", (f) => {
    for (const s of steps(wf(f)).filter((s) => s.uses?.startsWith("actions/checkout@")))
      expect(s.with?.["persist-credentials"]).toBe(false);
  });
});

describe("preview.yml", () => {
  const w = wf("preview.yml");
  const job = w.jobs.preview;

  test("runs on pull requests touching infra/, charts/, policy/ and Pulumi*.yaml", () => {
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
    expect(w.on.pull_request.paths).toEqual(
      expect.arrayContaining(["infra/**", "charts/**", "policy/**", "Pulumi*.yaml"]),
    );
  });

  test("one preview per PR at a time (newer pushes cancel older runs)", () => {
    expect(w.concurrency?.group).toContain("github.event.pull_request.number");
    expect(w.concurrency?.["cancel-in-progress"]).toBe(true);
  });

  test("checkout, setup-node with npm cache, npm ci, AWS by OIDC role, Pulumi token by OIDC, then pulumi preview", () => {
    const order = job.steps.map((s) => s.uses?.split("@")[0] ?? s.run?.split(" ").slice(0, 2).join(" "));
    expect(order).toEqual([
      "actions/checkout",
      "actions/setup-node",
      "npm ci",
      "aws-actions/configure-aws-credentials",
      "pulumi/auth-actions",
      "pulumi/actions",
    ]);
    expect(stepUsing(job, "actions/setup-node")!.with).toMatchObject({ cache: "npm" });
    expect(String(stepUsing(job, "aws-actions/configure-aws-credentials")!.with!["role-to-assume"])).toMatch(
      /^\$\{\{ vars\.[A-Z_]+ \}\}$/,
    );
    expect(stepUsing(job, "pulumi/auth-actions")!.with!["requested-token-type"]).toMatch(
      /^urn:pulumi:token-type:access_token:/,
    );
  });

  test("pulumi/actions previews the dev stack with diff, a PR comment and the policy pack", () => {
    const p = stepUsing(job, "pulumi/actions")!.with!;
    expect(p).toMatchObject({ command: "preview", "comment-on-pr": true, diff: true, policyPacks: "policy" });
    expect(String(p["stack-name"])).toMatch(/\/dev$/);
    expect(fs.existsSync(path.join(ROOT, String(p.policyPacks), "PulumiPolicy.yaml"))).toBe(true);
  });

  test("fork PRs (no OIDC token) skip the cloud preview; the job may write only the PR comment", () => {
    expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  });
});

describe("ci.yml", () => {
  const w = wf("ci.yml");
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

  test("runs on every pull request and on pushes to main, one run per PR/ref", () => {
    expect(w.on.pull_request === null || w.on.pull_request?.paths === undefined).toBe(true);
    expect(w.on.push.branches).toEqual(["main"]);
    expect(w.concurrency?.group).toContain("github.event.pull_request.number");
  });

  test("runs .ci/run (npm ci + the README test command) and the policy pack over both stacks", () => {
    const r = runs(w.jobs.test);
    expect(r).toContain(".ci/run");
    const ci = fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8");
    const order = ["npm ci", "npm run tools:build", "npm test", "npm run test:e2e"].map((c) =>
      ci.search(new RegExp(`^${c}\\b`, "m")),
    );
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]))).toBe(true);
    expect((w.jobs.test as Record<string, unknown>)["timeout-minutes"]).toBeGreaterThanOrEqual(90);
    expect(r).toContain("policy -- --stack dev");
    expect(r).toContain("policy -- --stack local");
    expect(pkg.scripts.policy).toContain("scripts/plan/cli.ts policy");
  });

  test("plans the base branch and this change, diffs them, and hands the comment to plan-comment.yml", () => {
    const job = w.jobs.plan;
    expect(job.if).toBe("github.event_name == 'pull_request'");
    const r = runs(job);
    expect(r).toContain('git worktree add --detach "$RUNNER_TEMP/base" "$BASE_SHA"');
    expect(r).toMatch(/plan -- --stack "\$stack" --out "plan\/\$stack\.json" "\$\{against\[@\]\}"/);
    expect(r).toContain("--against");
    expect(pkg.scripts.plan).toContain("scripts/plan/cli.ts plan");
    expect(stepUsing(job, "actions/upload-artifact")!.with).toMatchObject({ name: "kiln-plan", path: "plan/" });
  });

  test("needs no credentials: no id-token, no write scopes", () => {
    for (const job of Object.values(w.jobs)) expect(job.permissions).toBeUndefined();
    expect(w.permissions).toEqual({ contents: "read" });
  });
});

describe("plan-comment.yml", () => {
  const w = wf("plan-comment.yml");
  const job = w.jobs.comment;

  test("runs after ci completes, only for successful pull_request runs", () => {
    expect(w.on.workflow_run).toEqual({ workflows: ["ci"], types: ["completed"] });
    expect(job.if).toContain("github.event.workflow_run.event == 'pull_request'");
    expect(job.if).toContain("conclusion == 'success'");
  });

  test("never checks out or runs PR code; validates the PR number against the commit", () => {
    expect(job.steps.some((s) => s.uses?.startsWith("actions/checkout@"))).toBe(false);
    expect(runs(job)).toContain('[[ "$pr" =~ ^[0-9]+$ ]]');
    expect(runs(job)).toContain('.head.sha)" = "$HEAD_SHA"');
    expect(job.permissions).toEqual({ actions: "read", "pull-requests": "write" });
    expect(w.permissions).toEqual({});
  });

  test("updates one marked comment instead of adding one per push", () => {
    expect(runs(job)).toContain("<!-- kiln-plan -->");
    expect(runs(job)).toContain("-X PATCH");
  });
});

describe("trainer-image.yml", () => {
  const w = wf("trainer-image.yml");

  test("runs on changes to trainer-image/ (PRs and main)", () => {
    expect(w.on.pull_request.paths).toContain("trainer-image/**");
    expect(w.on.push.paths).toContain("trainer-image/**");
    expect(w.on.push.branches).toEqual(["main"]);
  });

  test("builds with the build cache and runs the trainer's tests inside the built image", () => {
    const job = w.jobs["build-and-test"];
    const build = stepUsing(job, "docker/build-push-action")!.with!;
    expect(build).toMatchObject({ file: "trainer-image/Dockerfile", load: true, push: false });
    expect(String(build["cache-from"])).toContain("type=gha");
    expect(String(build["cache-to"])).toContain("type=gha");
    const r = runs(job);
    expect(r).toMatch(/docker run [^\n]*--read-only/);
    expect(r).toContain('--entrypoint node "$LOCAL_TAG"');
    expect(r).toContain("jest");
    expect(r).toContain("test/trainer-image");
    expect(job.permissions).toBeUndefined();
  });

  test("pushes to ECR only from main, by OIDC, tagged with the commit SHA and the release version once (never latest)", () => {
    const job = w.jobs.push;
    expect(job.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(job.needs).toBe("build-and-test");
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(stepUsing(job, "aws-actions/amazon-ecr-login")).toBeDefined();
    const push = stepUsing(job, "docker/build-push-action")!.with!;
    expect(push.push).toBe(true);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
    expect(push.tags).toBe("${{ steps.tags.outputs.tags }}");
    const tags = job.steps.find((st) => st.id === "tags")!;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions expressions, not templates
    expect(tags.env).toEqual({ REPOSITORY: "${{ vars.TRAINER_ECR_REPOSITORY }}", SHA: "${{ github.sha }}" });
    // The dev stack's default kiln:trainer.tag is trainer-image/package.json's version: that tag is pushed.
    expect(tags.run).toContain(`require('./trainer-image/package.json').version`);
    expect(tags.run).toContain(`tags="$tags,$REPOSITORY:$version"`);
    expect(text("trainer-image.yml")).not.toMatch(/:latest\b/);
  });
});

describe("accountant-image.yml", () => {
  const w = wf("accountant-image.yml");

  test("runs on changes to the accountant and the tables and contracts it bundles", () => {
    for (const p of ["accountant/**", "contract/**"]) {
      expect(w.on.pull_request.paths).toContain(p);
      expect(w.on.push.paths).toContain(p);
    }
  });

  test("smoke-tests the built image read-only, and pushes from main only, by OIDC, SHA and release version once (never latest)", () => {
    expect(runs(w.jobs["build-and-test"])).toMatch(/docker run [^\n]*--read-only/);
    const job = w.jobs.push;
    expect(job.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    const r = runs(job);
    expect(r).toContain(`require('./package.json').version`);
    expect(r).toContain('docker push "$REPOSITORY:$SHA"');
    expect(text("accountant-image.yml")).not.toMatch(/:latest\b/);
  });
});

/** actionlint from the tool cache (`npm run tools:build` builds it from the Go module proxy). */
const ACTIONLINT = path.join(toolBinDir("actionlint"), "actionlint");
test("actionlint finds nothing", () => {
  if (!fs.existsSync(ACTIONLINT)) throw new Error(`${ACTIONLINT} is missing: run npm run tools:build`);
  const r = spawnSync(ACTIONLINT, ["-no-color", "-shellcheck=", ...FILES.map((f) => path.join(DIR, f))], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
