import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  COMPUTED,
  KilnMocks,
  programFinished,
  REDACTED,
  redact,
  UnknownInPreviewError,
  urnOf,
  resolvedValue,
} from "../../../scripts/plan/engine/mocks";

class Parent extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:test:Parent", name, {}, opts);
  }
}

describe("KilnMocks records what a preview would show", () => {
  let mocks: KilnMocks;
  beforeAll(async () => {
    mocks = await KilnMocks.install(new KilnMocks("us-west-2"), "kiln", "unit");
    const parent = new Parent("p");
    const queue = new aws.sqs.Queue("queue", {});
    const key = new aws.kms.Key("key", { enableKeyRotation: true }, { parent });
    const bucket = new aws.s3.Bucket("bucket", { bucketPrefix: "x" }, { parent });
    new aws.s3.BucketServerSideEncryptionConfiguration(
      "sse",
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn } }],
        expectedBucketOwner: pulumi.secret("hunter2"),
      },
      { parent: bucket, dependsOn: [queue] },
    );
    await programFinished();
  });

  test("children carry their parent URN and the engine's URN (parent type chain)", () => {
    const sse = mocks.resources.find((r) => r.name === "sse")!;
    const bucket = mocks.resources.find((r) => r.name === "bucket")!;
    expect(bucket.parent).toBe(mocks.resources.find((r) => r.name === "p")!.urn);
    expect(sse.parent).toBe(bucket.urn);
    expect(sse.urn).toBe(
      "urn:pulumi:unit::kiln::aws:s3/bucket:Bucket$aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration::sse",
    );
    expect(urnOf(undefined, "a:b:C", "n")).toBe("urn:pulumi:unit::kiln::a:b:C::n");
  });

  test("dependencies include resources inputs came from and dependsOn", () => {
    const sse = mocks.resources.find((r) => r.name === "sse")!;
    const urns = (n: string) => mocks.resources.find((r) => r.name === n)!.urn;
    expect([...sse.dependencies].sort()).toEqual([urns("bucket"), urns("key"), urns("queue")].sort());
    expect(mocks.resources.find((r) => r.name === "p")!.custom).toBe(false);
  });

  test("redact hides secrets and keeps computed outputs' placeholders", () => {
    const sse = mocks.resources.find((r) => r.name === "sse")!;
    const plain = redact(sse.inputs) as Record<string, unknown>;
    expect(plain.expectedBucketOwner).toBe(REDACTED);
    expect(JSON.stringify(plain)).not.toContain("hunter2");
    expect(plain.rules).toEqual([
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:us-west-2:123456789012:key/key-id",
        },
      },
    ]);
    expect(redact({ a: require("@pulumi/pulumi/output").unknown, b: [1] })).toEqual({ a: COMPUTED, b: [1] });
  });
});

describe("the engine's signals", () => {
  test("programFinished waits for registrations made from applies, however late the responses come", async () => {
    // Every registration answers after 150 ms, well past the old "no registration for ~100 ms" guess,
    // and each generation is created inside an apply of the previous one's output.
    const slow = new KilnMocks("us-west-2");
    const answer = slow.newResource.bind(slow);
    Object.assign(slow, {
      newResource: async (args: pulumi.runtime.MockResourceArgs) => {
        await new Promise((r) => setTimeout(r, 150));
        return answer(args);
      },
    });
    const mocks = await KilnMocks.install(slow, "kiln", "signals");
    const first = new aws.sqs.Queue("gen-0", {});
    first.arn.apply(() => {
      const second = new aws.sqs.Queue("gen-1", {});
      second.arn.apply(() => new aws.sqs.Queue("gen-2", {}));
    });
    await programFinished();
    expect(mocks.resources.map((r) => r.name)).toEqual(["gen-0", "gen-1", "gen-2"]);
  });

  test("a value unknown in a preview fails loudly, naming it, instead of hanging", async () => {
    await KilnMocks.install(new KilnMocks("us-west-2"), "kiln", "unknowns");
    const queue = new aws.sqs.Queue("q", {});
    // The mock gives new resources no id in a preview, as the engine does.
    await expect(resolvedValue(queue.id, "queue id")).rejects.toThrow(
      new UnknownInPreviewError("queue id is unknown until deployment (a preview cannot resolve it)"),
    );
    await expect(resolvedValue(queue.url)).resolves.toMatch(/^https:\/\/sqs\./);
    await programFinished();
  });
});
