// Wrapper module for the Kueue controller manager (sigs.k8s.io/kueue/cmd/kueue).
module kiln.local/toolchain/kueue

go 1.25.0

require sigs.k8s.io/kueue v0.14.8
