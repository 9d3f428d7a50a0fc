/**
 * Builds the AWS platform alone under the mocks (no cluster layer) from the dev stack's config
 * plus overrides, and offers readers over what it registered.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform } from "../../../infra/aws";
import { parseConfig } from "../../../infra/config";
import { KilnMocks, promiseOf, type RecordedResource, programFinished } from "../../../scripts/plan/engine/mocks";
import { readers, ROOT, stackConfig } from "../../../scripts/plan/engine/program";

/** The program under mocks for a stack (runProgram, under the name these suites use). */
export { runProgram as runStack } from "../../../scripts/plan/engine/program";

export interface AwsRun {
  readonly platform: AwsPlatform;
  readonly resources: RecordedResource[];
  readonly mocks: KilnMocks;
  ofType(type: string): RecordedResource[];
  named(type: string, name: string): RecordedResource;
  /** Kubernetes custom resources of `kind`. */
  crs(kind: string): RecordedResource[];
}

export async function buildAws(overrides: Record<string, unknown> = {}, stack = "dev"): Promise<AwsRun> {
  const raw = stackConfig(stack, overrides);
  const mocks = new KilnMocks(raw["aws:region"] ?? "us-west-2");
  await pulumi.runtime.setMocks(mocks, "kiln", stack, true);
  pulumi.runtime.setAllConfig(raw);
  const config = parseConfig(raw, stack);
  const platform = new AwsPlatform(config.clusterName, { config });
  await Promise.all([
    promiseOf(platform.kubeconfig),
    promiseOf(platform.trainerImage),
    promiseOf(platform.trainerRoleArn),
  ]);
  await programFinished();
  return {
    platform,
    resources: mocks.resources,
    mocks,
    ...readers(mocks.resources),
    crs: (kind) => mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type.endsWith(`:${kind}`)),
  };
}

/** Parsed policy document of a recorded input (string JSON or object). */
export function doc(policy: unknown): { Statement: Array<Record<string, any>> } {
  return typeof policy === "string" ? JSON.parse(policy) : (policy as { Statement: Array<Record<string, any>> });
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const taggableCache = new Map<string, boolean>();
/**
 * Whether an `aws:` resource type takes `tags`, read from @pulumi/aws's own type declarations
 * (`aws:ec2/subnet:Subnet` -> ec2/subnet.d.ts, interface SubnetArgs), so the rule covers any type
 * the program will ever use without a hand-kept list.
 */
export function isTaggable(type: string): boolean {
  const cached = taggableCache.get(type);
  if (cached !== undefined) return cached;
  const m = /^aws:([^/]+)\/([^:]+):(.+)$/.exec(type);
  if (!m) throw new Error(`not an aws resource type: ${type}`);
  const file = path.join(ROOT, "node_modules/@pulumi/aws", m[1], `${m[2]}.d.ts`);
  const text = fs.readFileSync(file, "utf8");
  const start = text.indexOf(`export interface ${m[3]}Args {`);
  if (start < 0) throw new Error(`${file} has no ${m[3]}Args`);
  const body = text.slice(start, text.indexOf("\n}", start));
  const result = /\n\s+tags\?: /.test(body);
  taggableCache.set(type, result);
  return result;
}

/** URNs of the recorded resources of `type` whose name passes `match`. */
export function urns(
  run: { resources: RecordedResource[] },
  type: string,
  match: (name: string) => boolean = () => true,
): string[] {
  return run.resources.filter((r) => r.type === type && match(r.name)).map((r) => r.urn);
}

/**
 * The URNs of `type` resources that `r` takes inputs from (or waits for). Ids of new resources are
 * unknown in a preview, so wiring by id is checked through the engine's dependency list.
 */
export function inputsFrom(run: { resources: RecordedResource[] }, r: RecordedResource, type: string): string[] {
  const deps = new Set(r.dependencies);
  return run.resources
    .filter((x) => x.type === type && deps.has(x.urn))
    .map((x) => x.name)
    .sort();
}
