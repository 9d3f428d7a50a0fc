// Wrapper module: server/v3's own go.mod replaces its sibling modules with ../ paths, so it
// cannot be `go install`ed at a version; require the siblings at the same published version.
module kiln.local/toolchain/etcd

go 1.26.0

require (
	go.etcd.io/etcd/api/v3 v3.6.16
	go.etcd.io/etcd/client/pkg/v3 v3.6.16
	go.etcd.io/etcd/client/v3 v3.6.16
	go.etcd.io/etcd/pkg/v3 v3.6.16
	go.etcd.io/etcd/server/v3 v3.6.16
)
