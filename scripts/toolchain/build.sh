#!/usr/bin/env bash
# Build the local cluster harness toolchain from the Go module proxy into the tool cache
# (~/.cache/kiln/tools/<tool>-<version>/bin). Only missing tools are built; a cached tool is a no-op.
#   scripts/toolchain/build.sh                 build every missing tool (sequentially, go build -p 2)
#   scripts/toolchain/build.sh kubernetes etcd build the named tools only
#   scripts/toolchain/build.sh --list          print each tool, version, bin dir and cached/missing
#   scripts/toolchain/build.sh --path          print the PATH entries of all tools (one per line)
#   scripts/toolchain/build.sh --check-pins    check every wrapper go.mod requires the version versions.sh pins
# Timings are appended to ~/.cache/kiln/logs/build-times.tsv (tool, version, cold|warm, seconds).
# Progress: each tool's place in the queue, its cold time on the reference machine (reference-times.tsv)
# and the estimated time left, scaled by this run's pace so far (eta.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$HERE/versions.sh"
# shellcheck source=eta.sh
source "$HERE/eta.sh"

# Parallelism of go build (2 cores on the reference machine).
GO_BUILD_P=${GO_BUILD_P:-2}
# Scratch space for wrapper modules and writable module copies.
KILN_TOOL_WORK=${KILN_TOOL_WORK:-"$HOME/.cache/kiln/work"}
# Seconds between progress lines while a build runs.
PROGRESS_EVERY=${PROGRESS_EVERY:-30}

ALL_TOOLS=(kubernetes etcd kwok kueue jobset coredns pulumi pulumi-language-nodejs pulumi-kubernetes minio actionlint pause)

usage() {
  cat >&2 <<EOF
usage: $0 [--list | --path | --check-pins | TOOL...]
  tools: ${ALL_TOOLS[*]}
  env: GO_BUILD_P=$GO_BUILD_P KILN_TOOLS_DIR=$KILN_TOOLS_DIR KILN_TOOL_LOGS=$KILN_TOOL_LOGS
EOF
}

# binaries <tool> -> the binary names the tool provides (all must exist for a cache hit).
binaries() {
  case "$1" in
    kubernetes) echo "kube-apiserver kube-controller-manager kube-scheduler kubelet" ;;
    etcd) echo "etcd" ;;
    kwok) echo "kwok" ;;
    kueue) echo "kueue" ;;
    jobset) echo "jobset" ;;
    coredns) echo "coredns" ;;
    pulumi) echo "pulumi" ;;
    pulumi-language-nodejs) echo "pulumi-language-nodejs" ;;
    pulumi-kubernetes) echo "pulumi-resource-kubernetes" ;;
    minio) echo "minio" ;;
    actionlint) echo "actionlint" ;;
    pause) echo "pause" ;;
  esac
}

version_of() { basename "$(dirname "$(tool_bin_dir "$1")")" | sed "s/^$1-//"; }

is_cached() {
  local bin b
  bin=$(tool_bin_dir "$1")
  for b in $(binaries "$1"); do [[ -x "$bin/$b" ]] || return 1; done
}

# origin_hash <module> <version> -> the VCS commit the proxy records for that version ("" if none).
origin_hash() {
  (cd /tmp && go mod download -json "$1@$2" 2>/dev/null) | sed -n 's/.*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -1
}

# pinned_module <tool> -> "<module path> <version>": what the tool's wrapper go.mod must require.
pinned_module() {
  case "$1" in
    kubernetes) echo "k8s.io/kubernetes $KUBERNETES_VERSION" ;;
    etcd) echo "go.etcd.io/etcd/server/v3 $ETCD_VERSION" ;;
    kwok) echo "sigs.k8s.io/kwok $KWOK_VERSION" ;;
    kueue) echo "sigs.k8s.io/kueue $KUEUE_VERSION" ;;
    jobset) echo "sigs.k8s.io/jobset $JOBSET_VERSION" ;;
    coredns) echo "github.com/coredns/coredns $COREDNS_VERSION" ;;
    pulumi) echo "github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION" ;;
    pulumi-language-nodejs) echo "github.com/pulumi/pulumi/sdk/v3 $PULUMI_LANGUAGE_NODEJS_VERSION" ;;
  esac
}

# check_wrapper <tool> : the wrapper go.mod requires the version versions.sh pins (an overridden version
# would otherwise build the go.mod's and be cached under the other's name).
check_wrapper() {
  local mod want gomod="$HERE/modules/$1/go.mod" have
  read -r mod want <<<"$(pinned_module "$1")"
  have=$(awk -v m="$mod" '($1 == "require" && $2 == m) { print $3; exit } ($1 == m) { print $2; exit }' "$gomod")
  if [[ "$have" != "$want" ]]; then
    local fix="cd scripts/toolchain/modules/$1 && go mod edit -require=$mod@$want && go mod tidy"
    [[ "$1" == kubernetes ]] && fix="scripts/toolchain/gen-kubernetes-mod.sh"
    echo "build: $1: scripts/toolchain/modules/$1/go.mod requires $mod ${have:-(nothing)}, but versions.sh pins $want: update the wrapper module ($fix) or drop the version override" >&2
    return 1
  fi
}

# prepare_wrapper <tool> -> copies scripts/toolchain/modules/<tool>/ into a fresh work dir, prints it.
prepare_wrapper() {
  check_wrapper "$1" || return 1
  local work="$KILN_TOOL_WORK/$1-$(version_of "$1")"
  rm -rf "$work" && mkdir -p "$work"
  cp "$HERE/modules/$1/"* "$work/"
  echo "$work"
}

# gobuild <dir> <out> <ldflags> <package> : go build inside <dir>, verbose into the log (progress source).
gobuild() {
  local dir=$1 out=$2 ldflags=$3 pkg=$4
  echo "+ go build -p $GO_BUILD_P -o $out $pkg" >>"$LOG"
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -p "$GO_BUILD_P" -v -trimpath \
    -ldflags "-s -w $ldflags" -o "$out" "$pkg") >>"$LOG" 2>&1
}

build_kubernetes() {
  local work commit minor ld b
  work=$(prepare_wrapper kubernetes)
  commit=$(origin_hash k8s.io/kubernetes "$KUBERNETES_VERSION")
  minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitCommit=${commit:-unknown} -X $p.gitTreeState=clean -X $p.buildDate=$BUILD_DATE"
  done
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do
    step "$b"
    gobuild "$work" "$STAGE/$b" "$ld" "k8s.io/kubernetes/cmd/$b"
  done
}

build_etcd() {
  local work
  work=$(prepare_wrapper etcd)
  step etcd
  gobuild "$work" "$STAGE/etcd" "-X go.etcd.io/etcd/api/v3/version.GitSHA=$(origin_hash go.etcd.io/etcd/server/v3 "$ETCD_VERSION" | cut -c1-8)" go.etcd.io/etcd/server/v3
}

build_kwok() {
  local work
  work=$(prepare_wrapper kwok)
  step kwok
  gobuild "$work" "$STAGE/kwok" "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION" sigs.k8s.io/kwok/cmd/kwok
  # KWOK's stock stage definitions (node/pod lifecycles) for scripts/cluster/up.sh.
  local dir
  dir=$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$STAGE/../stages"
  cp -r "$dir/kustomize/stage/." "$STAGE/../stages/"
  chmod -R u+w "$STAGE/../stages"
}

# stage_crds <module> <version>: a controller's CRDs ship in its module zip (config/components/crd/bases);
# they go next to the binary for the harness.
stage_crds() {
  local dir
  dir=$(cd /tmp && go mod download -json "$1@$2" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$STAGE/../crds"
  cp "$dir"/config/components/crd/bases/*.yaml "$STAGE/../crds/"
}

build_kueue() {
  local work
  work=$(prepare_wrapper kueue)
  step kueue
  gobuild "$work" "$STAGE/kueue" "-X sigs.k8s.io/kueue/pkg/version.GitVersion=$KUEUE_VERSION -X sigs.k8s.io/kueue/pkg/version.GitCommit=$(origin_hash sigs.k8s.io/kueue "$KUEUE_VERSION")" sigs.k8s.io/kueue/cmd/kueue
  stage_crds sigs.k8s.io/kueue "$KUEUE_VERSION"
}

build_jobset() {
  local work
  work=$(prepare_wrapper jobset)
  step jobset
  gobuild "$work" "$STAGE/jobset" "-X sigs.k8s.io/jobset/pkg/version.GitVersion=$JOBSET_VERSION -X sigs.k8s.io/jobset/pkg/version.GitCommit=$(origin_hash sigs.k8s.io/jobset "$JOBSET_VERSION")" sigs.k8s.io/jobset
  stage_crds sigs.k8s.io/jobset "$JOBSET_VERSION"
}

build_coredns() {
  local work
  work=$(prepare_wrapper coredns)
  step coredns
  gobuild "$work" "$STAGE/coredns" "-X github.com/coredns/coredns/coremain.GitCommit=$(origin_hash github.com/coredns/coredns "$COREDNS_VERSION" | cut -c1-7)" github.com/coredns/coredns
}

build_pulumi() {
  local work
  work=$(prepare_wrapper pulumi)
  step pulumi
  gobuild "$work" "$STAGE/pulumi" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

# A package of sdk/v3 at $PULUMI_LANGUAGE_NODEJS_VERSION (see versions.sh); the wrapper repeats sdk's replace.
build_pulumi-language-nodejs() {
  local work
  work=$(prepare_wrapper pulumi-language-nodejs)
  step pulumi-language-nodejs
  gobuild "$work" "$STAGE/pulumi-language-nodejs" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_LANGUAGE_NODEJS_VERSION" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
}

# The provider's main package embeds schema-embed.json and terraform-mapping-embed.json, made by its
# `go generate` (generate.go) from schema.json with VERSION set; the module cache is read-only, so work
# in a writable copy whose go.mod drops the `sdk/v4 => ../sdk` replace (sdk/v4 comes from the proxy).
build_pulumi-kubernetes() {
  local mod="github.com/pulumi/pulumi-kubernetes/provider/v4" src work ver
  ver=${PULUMI_KUBERNETES_VERSION#v}
  src=$(cd /tmp && go mod download -json "$mod@$PULUMI_KUBERNETES_MODULE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -d "$src" ]] || { echo "build: could not download $mod@$PULUMI_KUBERNETES_MODULE_VERSION" >&2; return 1; }
  work="$KILN_TOOL_WORK/pulumi-kubernetes-$PULUMI_KUBERNETES_VERSION"
  rm -rf "$work" && mkdir -p "$work" && cp -r "$src/." "$work/" && chmod -R u+w "$work"
  (cd "$work" && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4)
  step "pulumi-kubernetes: go generate (schema-embed.json, VERSION=$ver)"
  (cd "$work/cmd/pulumi-resource-kubernetes" && VERSION=$ver GOFLAGS=-mod=mod go run ./generate.go) >>"$LOG" 2>&1
  step pulumi-resource-kubernetes
  gobuild "$work" "$STAGE/pulumi-resource-kubernetes" "-X $mod/pkg/version.Version=$ver" ./cmd/pulumi-resource-kubernetes
  # Engine-side plugin metadata (optional for resource plugins; records the advertised version).
  printf 'runtime: go\nname: kubernetes\nversion: %s\n' "$ver" >"$STAGE/PulumiPlugin.yaml"
}

build_minio() {
  step minio
  (cd /tmp && CGO_ENABLED=0 GOBIN="$STAGE" go install -p "$GO_BUILD_P" -v -trimpath "github.com/minio/minio@$MINIO_VERSION") >>"$LOG" 2>&1
}

build_actionlint() {
  step actionlint
  (cd /tmp && CGO_ENABLED=0 GOBIN="$STAGE" go install -p "$GO_BUILD_P" -v -trimpath "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION") >>"$LOG" 2>&1
}

# The real node's sandbox (pause) binary: C, from the Kubernetes release's own build/pause/linux/pause.c,
# linked statically so the image needs nothing else (registry.k8s.io/pause is out of reach offline).
build_pause() {
  local dir
  command -v gcc >/dev/null || { echo "build: gcc is needed for pause (apt-get install gcc libc6-dev)" >&2; return 1; }
  dir=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -f "$dir/build/pause/linux/pause.c" ]] || { echo "build: $dir/build/pause/linux/pause.c not found" >&2; return 1; }
  step "pause $PAUSE_VERSION from k8s.io/kubernetes@$KUBERNETES_VERSION build/pause/linux/pause.c"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-$KUBERNETES_VERSION" -o "$STAGE/pause" "$dir/build/pause/linux/pause.c" >>"$LOG" 2>&1
  strip "$STAGE/pause"
}

step() { echo "[$(date +%H:%M:%S)] $TOOL: $*" | tee -a "$LOG" >&2; }

# The tools this run builds, in order (cached ones excluded), the current one's index in it, and the
# seconds taken by those built so far against their reference seconds (the pace of the ETA).
QUEUE=()
QUEUE_AT=0
DONE_SECONDS=0
DONE_REFERENCE=0

# reference_note <tool> -> "reference 211 s" or "no reference time".
reference_note() {
  local ref
  ref=$(reference_seconds "$1")
  if [[ -n "$ref" ]]; then echo "reference $(human_duration "$ref")"; else echo "no reference time"; fi
}

# left_note <seconds spent on the current tool> -> "about 17 min left in all" for it and the tools after it.
left_note() {
  local left
  left=$(seconds_left "$(pace_permille "$DONE_SECONDS" "$DONE_REFERENCE")" "$1" "${QUEUE[@]:QUEUE_AT}")
  echo "$(human_duration "$left") left in all"
}

# progress_loop <pid> : one line every PROGRESS_EVERY s with elapsed time, the time left and the log's length.
progress_loop() {
  local pid=$1 start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$PROGRESS_EVERY"
    kill -0 "$pid" 2>/dev/null || break
    echo "[$(date +%H:%M:%S)] $TOOL: building... $((SECONDS - start))s ($(reference_note "$TOOL")), $(left_note $((SECONDS - start))), $(grep -cvE '^(\+|go: )' "$LOG" || true) log lines ($LOG)" >&2
  done
}

build_one() {
  TOOL=$1
  local bin start status
  bin=$(tool_bin_dir "$TOOL")
  mkdir -p "$KILN_TOOL_LOGS"
  if is_cached "$TOOL"; then
    echo "[$(date +%H:%M:%S)] $TOOL $(version_of "$TOOL"): cached in $bin" >&2
    printf '%s\t%s\twarm\t0\t%s\n' "$TOOL" "$(version_of "$TOOL")" "$(date -u +%FT%TZ)" >>"$KILN_TOOL_LOGS/build-times.tsv"
    return 0
  fi
  LOG="$KILN_TOOL_LOGS/$TOOL-$(version_of "$TOOL").log"
  : >"$LOG"
  # Build into a staging dir and move it into place at the end: a cache hit never sees half a tool.
  STAGE="$(dirname "$bin").partial/bin"
  rm -rf "$(dirname "$STAGE")" && mkdir -p "$STAGE"
  BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  echo "[$(date +%H:%M:%S)] [$((QUEUE_AT + 1))/${#QUEUE[@]}] $TOOL $(version_of "$TOOL"): building, $(reference_note "$TOOL") on the 2-core reference machine, $(left_note 0) (log: $LOG)" >&2
  start=$SECONDS
  set +e
  ( set -e; "build_$TOOL" ) &
  local pid=$!
  progress_loop "$pid" &
  local ppid=$!
  wait "$pid"; status=$?
  kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null
  set -e
  if [[ $status -ne 0 ]]; then
    echo "[$(date +%H:%M:%S)] $TOOL: BUILD FAILED after $((SECONDS - start))s; last lines of $LOG:" >&2
    tail -n 15 "$LOG" >&2
    return 1
  fi
  rm -rf "$(dirname "$bin")" && mv "$(dirname "$STAGE")" "$(dirname "$bin")"
  printf '%s\t%s\tcold\t%s\t%s\n' "$TOOL" "$(version_of "$TOOL")" "$((SECONDS - start))" "$(date -u +%FT%TZ)" >>"$KILN_TOOL_LOGS/build-times.tsv"
  echo "[$(date +%H:%M:%S)] $TOOL: built in $((SECONDS - start))s ($(reference_note "$TOOL")) -> $bin" >&2
  local ref
  ref=$(reference_seconds "$TOOL")
  if [[ -n "$ref" ]]; then DONE_SECONDS=$((DONE_SECONDS + SECONDS - start)) DONE_REFERENCE=$((DONE_REFERENCE + ref)); fi
}

main() {
  local tools=() t failed=()
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    --check-pins)
      for t in "${ALL_TOOLS[@]}"; do
        [[ -n "$(pinned_module "$t")" ]] || continue
        check_wrapper "$t" || failed+=("$t")
      done
      [[ ${#failed[@]} -eq 0 ]] || exit 1
      echo "build: every wrapper go.mod requires the version versions.sh pins" >&2
      exit 0 ;;
    --list)
      for t in "${ALL_TOOLS[@]}"; do
        printf '%-24s %-40s %s\n' "$t" "$(version_of "$t")" "$(is_cached "$t" && echo cached || echo missing)"
      done
      exit 0 ;;
    --path)
      for t in "${ALL_TOOLS[@]}"; do tool_bin_dir "$t"; done
      exit 0 ;;
  esac
  command -v go >/dev/null || { echo "build: 'go' not found on PATH (Go 1.26 is required)" >&2; exit 1; }
  if [[ $# -eq 0 ]]; then tools=("${ALL_TOOLS[@]}"); else tools=("$@"); fi
  for t in "${tools[@]}"; do
    [[ " ${ALL_TOOLS[*]} " == *" $t "* ]] || { echo "build: unknown tool '$t' (known: ${ALL_TOOLS[*]})" >&2; exit 2; }
  done
  for t in "${tools[@]}"; do is_cached "$t" || QUEUE+=("$t"); done
  if [[ ${#QUEUE[@]} -gt 0 ]]; then
    echo "build: ${#QUEUE[@]} tools to build from the Go module proxy (${QUEUE[*]}): $(human_duration "$(seconds_left 1000 0 "${QUEUE[@]}")") on the 2-core reference machine" >&2
  fi
  for t in "${tools[@]}"; do
    build_one "$t" || failed+=("$t")
    [[ "${QUEUE[QUEUE_AT]:-}" == "$t" ]] && QUEUE_AT=$((QUEUE_AT + 1))
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo "build: FAILED: ${failed[*]} (logs under $KILN_TOOL_LOGS)" >&2
    exit 1
  fi
}

# One line on purpose: bash reads scripts lazily, so editing this file mid-build stays harmless.
main "$@"; exit $?
