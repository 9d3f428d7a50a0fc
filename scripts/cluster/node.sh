# The local cluster's real worker node (sourced by up.sh, down.sh, status.sh after env.sh and pki.sh):
# containerd + runc (Debian packages) with CNI bridge networking and a locally built pause image, and a
# kubelet built with the control plane. It joins a GPU pool with the GPU taint and advertises
# nvidia.com/gpu as an extended resource, so GPU runs are admitted, scheduled here and run for real (on a
# CPU backend: no GPU is behind the resource). State, logs and PIDs live under $NODE_DIR and $LOG_DIR;
# stop_real_node leaves no process, mount, netns, link, iptables chain or cgroup behind.
# Walls met on these VMs and the fixes used here: ../shared/notes/real-node.md in the team's notes.
# shellcheck shell=bash

# Where containerd, the kubelet and CNI keep their state (containerd/root, the image store, survives cluster:down).
NODE_DIR=${NODE_DIR:-"$KILN_DIR/node"}
NODE_NAME=${NODE_NAME:-kiln-node-0}
# The node's address: a private /32 on a bridge device of its own (the kubelet refuses loopback, and the
# kernel may lack the dummy link type). Pods reach services bound to it, e.g. the harness MinIO.
NODE_IP=${NODE_IP:-10.250.0.1}
NODE_LINK=${NODE_LINK:-kiln-node0}
# Pod network of the node: CNI bridge + host-local IPAM, masqueraded when it leaves the node.
POD_CIDR=${POD_CIDR:-10.251.0.0/24}
CNI_BRIDGE=${CNI_BRIDGE:-kiln-cni0}
CNI_NETWORK=${CNI_NETWORK:-kiln-node}
# Where containerd's CNI setup (and podman, and `ip netns`) keep network namespaces as bind mounts.
NETNS_DIR=${NETNS_DIR:-/run/netns}
CNI_BIN_DIR=${CNI_BIN_DIR:-/usr/lib/cni}
KUBELET_PORT=${KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-10248}
# GPU pool the node joins (default: the first of $KILN_NODES_CONFIG).
KILN_REAL_NODE_POOL=${KILN_REAL_NODE_POOL:-}
CONTAINERD_SOCK="$NODE_DIR/containerd/containerd.sock"
PAUSE_IMAGE="localhost/kiln/pause:$PAUSE_VERSION"
PAUSE_BIN=${PAUSE_BIN:-"$(tool_bin_dir pause)/pause"}
KUBELET_BIN=${KUBELET_BIN:-"$KUBE_BIN_DIR/kubelet"}

ctr_node() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# real_node_preflight: what the node needs that the control plane does not (names the fix).
real_node_preflight() {
  local missing=() b
  [[ $(id -u) -eq 0 ]] || die "the real node needs root (kubelet, containerd, CNI); run as root or set KILN_REAL_NODE=false"
  for b in containerd containerd-shim-runc-v2 runc ctr iptables ip podman findmnt; do command -v "$b" >/dev/null || missing+=("$b"); done
  for b in bridge host-local loopback portmap; do [[ -x "$CNI_BIN_DIR/$b" ]] || missing+=("$CNI_BIN_DIR/$b"); done
  [[ ${#missing[@]} -eq 0 ]] || die "the real node needs:$(printf ' %s' "${missing[@]}"); install them with: bash scripts/cluster/install-node-deps.sh"
  for b in "$KUBELET_BIN" "$PAUSE_BIN"; do [[ -x "$b" ]] || die "missing $b; build it with 'npm run tools:build'"; done
  local p
  for p in $KUBELET_PORT $KUBELET_HEALTHZ_PORT; do
    port_in_use "$p" && die "port $p (kubelet) is already in use on 127.0.0.1; is another kubelet running? (ss -ltnp 'sport = :$p')"
  done
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && die "link $CNI_BRIDGE exists from an earlier node; run 'npm run cluster:down' first"
  return 0
}

node_network_up() {
  if ! ip link show "$NODE_LINK" >/dev/null 2>&1; then
    ip link add "$NODE_LINK" type bridge
  fi
  ip addr replace "$NODE_IP/32" dev "$NODE_LINK"
  ip link set "$NODE_LINK" up
  echo "$NODE_IP" >"$RUN_DIR/node-ip"
  mkdir -p "$NODE_DIR/cni/net.d" "$NODE_DIR/cni/ipam"
  cat >"$NODE_DIR/cni/net.d/10-kiln.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "loopback" }
  ]
}
EOF
}

start_containerd() {
  mkdir -p "$NODE_DIR/containerd/root" "$NODE_DIR/containerd/state" "$NODE_DIR/opt"
  cat >"$NODE_DIR/containerd/config.toml" <<EOF
version = 2
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  disable_apparmor = true
  # Sandboxes ask for oom_score_adj -998; without CAP_SYS_RESOURCE runc cannot lower it ("can't get
  # final child's PID from pipe: EOF"). Restricting it to the caller's own value works everywhere.
  restrict_oom_score_adj = true
  tolerate_missing_hugetlb_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$NODE_DIR/cni/net.d"
EOF
  start containerd containerd --config "$NODE_DIR/containerd/config.toml"
  wait_for containerd "$READY_TIMEOUT" ctr --address "$CONTAINERD_SOCK" version
}

# import_image <podman image ref>: into the node's containerd under the same name, skipped when it holds that image ID.
import_image() {
  local ref=$1 id mark
  id=$("$KILN_REPO_ROOT/scripts/image/podman.sh" image inspect --format '{{.Id}}' "$ref" 2>/dev/null) ||
    die "image $ref is not in podman's store; build it: npm run image:build"
  mark="$NODE_DIR/containerd/root/kiln-images/$(echo "$ref" | tr '/:' '__')"
  if [[ "$(cat "$mark" 2>/dev/null)" == "$id" ]] && ctr_node images ls -q | grep -qxF "$ref"; then return 0; fi
  log "node: importing $ref into containerd"
  local archive="$NODE_DIR/import.tar"
  "$KILN_REPO_ROOT/scripts/image/podman.sh" save -q --format docker-archive -o "$archive" "$ref"
  ctr_node images import --no-unpack "$archive" >/dev/null
  rm -f "$archive"
  mkdir -p "$(dirname "$mark")" && echo "$id" >"$mark"
}

build_pause_image() {
  local id dir="$NODE_DIR/pause-rootfs"
  "$KILN_REPO_ROOT/scripts/image/podman.sh" image exists "$PAUSE_IMAGE" && return 0
  rm -rf "$dir" && mkdir -p "$dir" && cp "$PAUSE_BIN" "$dir/pause"
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -c pause |
    "$KILN_REPO_ROOT/scripts/image/podman.sh" import -q --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' - "$PAUSE_IMAGE" >/dev/null
  rm -rf "$dir"
}

node_pki() {
  client_cert kubelet "system:node:$NODE_NAME" system:nodes
  serving_cert kubelet-serving "$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
  kubeconfig_for "$PKI_DIR/kubelet.kubeconfig" kubelet
}

start_kubelet() {
  local settings
  settings=$(cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/cluster/real-node.ts settings --config "$KILN_NODES_CONFIG" ${KILN_REAL_NODE_POOL:+--pool "$KILN_REAL_NODE_POOL"})
  eval "$settings"
  mkdir -p "$NODE_DIR/kubelet" "$NODE_DIR/pod-logs"
  (cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/cluster/real-node.ts kubelet-config \
    --config "$KILN_NODES_CONFIG" ${KILN_REAL_NODE_POOL:+--pool "$KILN_REAL_NODE_POOL"} --out "$NODE_DIR/kubelet.yaml" \
    --node-ip "$NODE_IP" --port "$KUBELET_PORT" --healthz-port "$KUBELET_HEALTHZ_PORT" --cluster-dns "$NODE_IP" --cluster-domain "$CLUSTER_DOMAIN" --socket "$CONTAINERD_SOCK" --ca "$PKI_DIR/ca.crt" \
    --tls-cert "$PKI_DIR/kubelet-serving.crt" --tls-key "$PKI_DIR/kubelet-serving.key" --pod-logs "$NODE_DIR/pod-logs")
  start kubelet "$KUBELET_BIN" --config "$NODE_DIR/kubelet.yaml" --kubeconfig "$PKI_DIR/kubelet.kubeconfig" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --node-labels "$NODE_LABELS" \
    --root-dir "$NODE_DIR/kubelet" --cert-dir "$NODE_DIR/kubelet/pki" --v=1
  wait_for kubelet "$READY_TIMEOUT" real_node_ready
  # An extended resource is advertised by patching the node's status (no device plugin: no GPU behind it).
  kc patch node "$NODE_NAME" --subresource=status --type=json \
    -p "[{\"op\":\"add\",\"path\":\"/status/capacity/${NODE_GPU_RESOURCE//\//~1}\",\"value\":\"$NODE_GPUS\"}]" >/dev/null
  wait_for kubelet 60 node_allocatable_gpus "$NODE_GPUS"
  log "real node $NODE_NAME Ready ($NODE_IP, pool $NODE_POOL, advertises $NODE_GPUS $NODE_GPU_RESOURCE; runs on the CPU)"
}

real_node_ready() {
  [[ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
node_allocatable_gpus() {
  [[ "$(kc get node "$NODE_NAME" -o jsonpath="{.status.allocatable.${NODE_GPU_RESOURCE//./\\.}}" 2>/dev/null)" == "$1" ]]
}

# Pods reach the API server at $NODE_IP:$APISERVER_PORT (there is no kube-proxy for the kubernetes
# Service): a TCP forward to the loopback API server, listening on the node's private address only.
start_apiserver_proxy() {
  command -v socat >/dev/null || die "socat not found; install the node packages: bash scripts/cluster/install-node-deps.sh"
  start apiserver-proxy socat "TCP-LISTEN:$APISERVER_PORT,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$APISERVER_PORT"
}

# Pod network namespaces are nsfs bind mounts in /run/netns. podman (the image build) makes that directory
# a bind mount of itself the first time it needs one; made while pods run, that bind hides their netns
# mounts beneath it, so containerd can neither unmount nor remove them ("unlinkat /var/run/netns/cni-...:
# device or resource busy") and the pods never finish terminating. A shared mount point from the start
# is what podman and `ip netns` expect: they find it and bind nothing over it.
netns_dir_up() {
  mkdir -p "$NETNS_DIR"
  mountpoint -q "$NETNS_DIR" || mount --bind "$NETNS_DIR" "$NETNS_DIR"
  mount --make-shared "$NETNS_DIR"
}

# remove_pod_netns: the pod netns files left in $NETNS_DIR, also those a later bind of the directory hid
# (a node started before netns_dir_up existed): lift the binds, then unmount and remove them.
remove_pod_netns() {
  local ns
  for ns in "$NETNS_DIR"/cni-*; do
    [[ -e "$ns" ]] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns" 2>/dev/null && continue
    while findmnt -rn -o TARGET | grep -qxF "$NETNS_DIR"; do umount "$NETNS_DIR" 2>/dev/null || break; done
    umount "$ns" 2>/dev/null || true
    rm -f "$ns" 2>/dev/null || true
  done
}

# CoreDNS, the cluster's DNS: a host process on the node's address (pods reach it there, as they reach
# MinIO), answering the cluster domain from the API server (Services, and the host names of a JobSet's
# pods under its headless Service). It forwards nothing: names outside the cluster domain do not exist (NXDOMAIN: a lookup fails at once instead of retrying),
# so no query leaves the machine. Its identity may only read what the kubernetes plugin watches.
start_coredns() {
  [[ -x "$COREDNS_BIN" ]] || die "missing $COREDNS_BIN; build it with 'npm run tools:build coredns'"
  kc apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "kiln:coredns", labels: {app.kubernetes.io/managed-by: kiln-local-harness}}
rules:
  - {apiGroups: [""], resources: [services, pods, namespaces], verbs: [list, watch]}
  - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kiln:coredns", labels: {app.kubernetes.io/managed-by: kiln-local-harness}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "kiln:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: kiln-coredns}]
EOF
  local corefile="$KILN_DIR/Corefile"
  cat >"$corefile" <<EOF
$CLUSTER_DOMAIN:53 in-addr.arpa:53 {
  bind $NODE_IP
  errors
  health 127.0.0.1:$COREDNS_HEALTH_PORT
  ready 127.0.0.1:$COREDNS_READY_PORT
  kubernetes $CLUSTER_DOMAIN in-addr.arpa {
    kubeconfig $PKI_DIR/coredns.kubeconfig
    pods insecure
    ttl 5
  }
}
.:53 {
  bind $NODE_IP
  errors
  template ANY ANY {
    rcode NXDOMAIN
  }
}
EOF
  start coredns "$COREDNS_BIN" -conf "$corefile"
  wait_for coredns "$READY_TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$COREDNS_READY_PORT/ready"
}

start_real_node() {
  [[ "$KILN_REAL_NODE" == true ]] || return 0
  node_network_up
  netns_dir_up
  start_apiserver_proxy
  start_coredns
  node_pki
  build_pause_image
  start_containerd
  import_image "$PAUSE_IMAGE"
  start_kubelet
}

# ---- stop and clean up ------------------------------------------------------------------------------

# remove_iptables_chain <table> <chain>: drop every rule jumping to it, then flush and delete it.
remove_iptables_chain() {
  local table=$1 chain=$2 rule
  iptables -t "$table" -S "$chain" >/dev/null 2>&1 || return 0
  while read -r rule; do
    # shellcheck disable=SC2086
    [[ -n "$rule" ]] && eval iptables -t "$table" ${rule/-A/-D} 2>/dev/null || true
  done < <(iptables -t "$table" -S | grep -E -- "-j $chain( |\$)" || true)
  iptables -t "$table" -F "$chain" 2>/dev/null || true
  iptables -t "$table" -X "$chain" 2>/dev/null || true
}

stop_real_node() {
  local t ns m chain cg
  stop_component kubelet
  if [[ -S "$CONTAINERD_SOCK" ]] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
    for t in $(ctr_node tasks ls -q 2>/dev/null); do ctr_node tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 1
    for t in $(ctr_node tasks ls -q 2>/dev/null); do ctr_node tasks delete -f "$t" >/dev/null 2>&1 || true; done
    for t in $(ctr_node containers ls -q 2>/dev/null); do ctr_node containers delete "$t" >/dev/null 2>&1 || true; done
  fi
  stop_component containerd
  # Shims outlive containerd by design; ours are the ones started with our socket.
  pkill -KILL -f "[c]ontainerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
  # Network namespaces of our pods (an address in the node's pod range).
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    ip -n "$ns" -4 addr show 2>/dev/null | grep -q "inet ${POD_CIDR%.*}\." && ip netns delete "$ns" 2>/dev/null || true
  done
  remove_pod_netns
  # Mounts under the node's state (pod volumes, rootfs overlays, sandbox shm), deepest first.
  if [[ -d "$NODE_DIR" ]]; then
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | grep -F "$NODE_DIR/" | sort -r)
  fi
  ip link delete "$CNI_BRIDGE" 2>/dev/null || true
  ip link delete "$NODE_LINK" 2>/dev/null || true
  rm -f "$RUN_DIR/node-ip"
  # The CNI bridge plugin's masquerade chains carry the network's name in their comment.
  for chain in $(iptables -t nat -S POSTROUTING 2>/dev/null | grep -F "name: \"$CNI_NETWORK\"" | grep -oE -- '-j CNI-[0-9a-f]+' | awk '{print $2}'); do
    remove_iptables_chain nat "$chain"
  done
  for t in filter nat mangle; do
    for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do remove_iptables_chain "$t" "$chain"; done
  done
  # Per-pod cgroups the kubelet made (cgroup v1: one tree per controller), leaves first.
  for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d "$cg" ]] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  # Keep containerd's image store (root) for the next start; everything else is per-run state.
  if [[ -d "$NODE_DIR" ]]; then
    find "$NODE_DIR" -mindepth 1 -maxdepth 1 ! -name containerd -exec rm -rf {} + 2>/dev/null || true
    rm -rf "$NODE_DIR/containerd/state" "$NODE_DIR/containerd/config.toml"
  fi
}

# real_node_leftovers: prints what a stopped node left behind (nothing when clean).
real_node_leftovers() {
  local cg
  findmnt -rn -o TARGET | grep -F "$NODE_DIR/" | sed 's/^/mount /' || true
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && echo "link $CNI_BRIDGE"
  ip link show "$NODE_LINK" >/dev/null 2>&1 && echo "link $NODE_LINK"
  iptables-save 2>/dev/null | grep -E "KUBE-FIREWALL|KUBE-KUBELET-CANARY|name: \"$CNI_NETWORK\"" | sed 's/^/iptables /' || true
  for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do [[ -d "$cg" ]] && echo "cgroup $cg"; done
  pgrep -fa "[c]ontainerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" | sed 's/^/process /' || true
  for ns in "$NETNS_DIR"/cni-*; do [[ -e "$ns" ]] && echo "netns $ns"; done
  return 0
}
