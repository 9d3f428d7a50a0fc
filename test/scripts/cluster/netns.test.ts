/**
 * The real node's network namespace directory (scripts/cluster/node.sh) against real mounts in a temp
 * directory: podman binds the directory over itself when it first needs a netns, which used to hide the
 * pods' netns mounts so containerd could not remove them and pods never finished terminating.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { describeIf } from "../../support/skips";

const ROOT = path.resolve(__dirname, "../../..");
const root = process.getuid?.() === 0;

/** Runs `script` in bash with env.sh and node.sh sourced and NETNS_DIR set; returns exit code and output. */
function node(dir: string, script: string) {
  const src = `set -uo pipefail; source scripts/cluster/env.sh; source scripts/cluster/node.sh; ${script}`;
  const r = spawnSync("bash", ["-c", src], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NETNS_DIR: dir } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

// A pod's netns as containerd's CNI setup makes it, then podman's first netns: bind the directory over
// itself unless it is already a mount point (containers/common pkg/netns).
const POD_NETNS = (name: string) => `touch "$NETNS_DIR/${name}" && unshare --net="$NETNS_DIR/${name}" true`;
const PODMAN = `mount --make-shared "$NETNS_DIR" 2>/dev/null || { mount --rbind "$NETNS_DIR" "$NETNS_DIR" && mount --make-rshared "$NETNS_DIR"; }`;
const CONTAINERD_REMOVE = (name: string) => `umount "$NETNS_DIR/${name}"; rm "$NETNS_DIR/${name}"`;

describeIf({
  what: "the netns harness test",
  missing: root ? undefined : "it mounts, so it needs root",
  enable: 'sudo env "PATH=$PATH" npm test',
})("the real node's netns directory", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-netns-"))));
  afterEach(() => {
    spawnSync("bash", [
      "-c",
      `for m in $(findmnt -rn -o TARGET | grep -F "${dir}" | sort -r); do umount -l "$m"; done; rm -rf "${dir}"`,
    ]);
  });

  test("made a shared mount point before pods start, a pod's netns stays removable after podman's first netns", () => {
    const r = node(
      dir,
      `netns_dir_up && ${POD_NETNS("cni-a")} && ${PODMAN} && ${CONTAINERD_REMOVE("cni-a")} && real_node_leftovers | grep netns || echo clean`,
    );
    expect(r.out.trim()).toBe("clean");
    expect(r.code).toBe(0);
  });

  test("without it the netns is hidden and cannot be removed; the node's clean-up still removes it", () => {
    const hidden = node(
      dir,
      `mkdir -p "$NETNS_DIR" && ${POD_NETNS("cni-b")} && ${PODMAN} && ${CONTAINERD_REMOVE("cni-b")}`,
    );
    expect(hidden.out).toMatch(/Device or resource busy/);
    expect(node(dir, "real_node_leftovers").out).toContain(`netns ${dir}/cni-b`);
    const cleaned = node(dir, "remove_pod_netns; real_node_leftovers | grep netns || echo clean");
    expect(cleaned.out.trim()).toBe("clean");
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
