import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const cluster = path.join(__dirname, "../../../scripts/cluster");

describe("the simulated nodes' leases and the node lifecycle controller", () => {
  it("calls a node unreachable only after its lease could have been renewed several times", () => {
    const kwok = parse(fs.readFileSync(path.join(cluster, "kwok/kwok.yaml"), "utf8"));
    // KWOK renews a node's Lease at a quarter of its duration: a grace of at least the duration is four renewals.
    const lease = kwok.options.nodeLeaseDurationSeconds as number;
    const up = fs.readFileSync(path.join(cluster, "up.sh"), "utf8");
    const grace = up.match(/--node-monitor-grace-period (\d+)s/);
    expect(grace).not.toBeNull();
    expect(Number(grace![1])).toBeGreaterThanOrEqual(lease);
  });
});
