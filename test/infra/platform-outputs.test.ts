/**
 * Each platform registers (registerOutputs) every output it exposes, so `pulumi stack` and component
 * consumers see the same fields the class declares. Fields are read from the constructed instance.
 */
import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform } from "../../infra/aws";
import { parseConfig } from "../../infra/config";
import { LocalPlatform } from "../../infra/local";
import { KilnMocks, programFinished } from "../../scripts/plan/engine/mocks";
import { stackConfig } from "../../scripts/plan/engine/program";

/** Own fields every Resource has (the SDK's are `__`-prefixed, plus the URN). */
const isBaseField = (k: string) => k === "urn" || k.startsWith("__");

async function registered(
  build: () => pulumi.ComponentResource,
  type: string,
): Promise<{ exposed: string[]; outputs: string[] }> {
  const seen: Record<string, string[]> = {};
  // biome-ignore lint/complexity/useLiteralKeys: registerOutputs is protected: only an index reaches it
  const original = pulumi.ComponentResource.prototype["registerOutputs"];
  const spy = jest.spyOn(pulumi.ComponentResource.prototype as any, "registerOutputs").mockImplementation(function (
    this: any,
    outputs: any,
  ) {
    // The constructor's own call; the SDK calls it again (with nothing) after initialize.
    if (this.__pulumiType === type && outputs !== undefined && !seen[type]) seen[type] = Object.keys(outputs);
    return original.call(this, outputs);
  });
  try {
    const platform = build();
    await programFinished();
    const exposed = Object.keys(platform).filter((k) => !isBaseField(k));
    return { exposed: exposed.sort(), outputs: (seen[type] ?? []).sort() };
  } finally {
    spy.mockRestore();
  }
}

test.each([
  ["dev", "kiln:aws:Platform", { "kiln:storage": { fsx: { enabled: true } } }],
  ["local", "kiln:local:Platform", {}],
] as const)("the %s platform registers every field it exposes", async (stack, type, overrides) => {
  const raw = stackConfig(stack, overrides);
  await KilnMocks.install(new KilnMocks(raw["aws:region"] ?? "us-west-2"), "kiln", stack, true);
  pulumi.runtime.setAllConfig(raw);
  const config = parseConfig(raw, stack);
  const { exposed, outputs } = await registered(
    () =>
      stack === "dev" ? new AwsPlatform(config.clusterName, { config }) : new LocalPlatform("kiln-local", { config }),
    type,
  );
  expect(exposed.length).toBeGreaterThan(6);
  expect(outputs).toEqual(exposed);
});
