import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ambientKubeconfig } from "../../../infra/local/platform";
import { KilnMocks, promiseOf } from "../../../scripts/plan/engine/mocks";

describe("ambientKubeconfig", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-kubeconfig-"));
  const first = path.join(dir, "first.yaml");
  const second = path.join(dir, "second.yaml");
  fs.writeFileSync(second, "apiVersion: v1\nkind: Config\n# second\n");

  beforeEach(async () => {
    await pulumi.runtime.setMocks(new KilnMocks(), "kiln", "local", true);
    pulumi.runtime.setAllConfig({});
  });

  test("reads the first existing file of $KUBECONFIG", async () => {
    expect(
      await promiseOf(ambientKubeconfig({ KUBECONFIG: [first, second].join(path.delimiter), HOME: dir })),
    ).toContain("# second");
  });

  test("falls back to ~/.kube/config, and to empty when there is none", async () => {
    fs.mkdirSync(path.join(dir, ".kube"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".kube", "config"), "# home\n");
    expect(await promiseOf(ambientKubeconfig({ HOME: dir }))).toBe("# home\n");
    expect(await promiseOf(ambientKubeconfig({ HOME: path.join(dir, "nowhere") }))).toBe("");
  });

  test("kubernetes:kubeconfig (a path or the contents) wins over the environment", async () => {
    pulumi.runtime.setAllConfig({ "kubernetes:kubeconfig": second });
    expect(await promiseOf(ambientKubeconfig({ HOME: dir }))).toContain("# second");
    pulumi.runtime.setAllConfig({ "kubernetes:kubeconfig": "apiVersion: v1\nkind: Config\n# inline\n" });
    expect(await promiseOf(ambientKubeconfig({ HOME: dir }))).toContain("# inline");
  });
});
