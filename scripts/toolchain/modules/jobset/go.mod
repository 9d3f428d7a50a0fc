// Wrapper module for the JobSet controller manager (sigs.k8s.io/jobset, main package at the module root).
// The module proxy lists no versions of sigs.k8s.io/jobset, so `go install ...@version` fails; a require works.
module kiln.local/toolchain/jobset

go 1.25.0

require sigs.k8s.io/jobset v0.12.0
