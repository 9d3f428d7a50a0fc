// Wrapper module for the KWOK controller (sigs.k8s.io/kwok/cmd/kwok).
module kiln.local/toolchain/kwok

go 1.26.0

require sigs.k8s.io/kwok v0.8.0
