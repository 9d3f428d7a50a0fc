// Wrapper module for CoreDNS (github.com/coredns/coredns, main package at the module root): the local
// cluster's DNS (the kubernetes plugin answers Service and headless pod names).
module kiln.local/toolchain/coredns

go 1.25.0

require github.com/coredns/coredns v1.14.7
