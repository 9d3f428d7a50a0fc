// Wrapper module for the Pulumi CLI: pkg/v3's go.mod replaces sdk/v3 with ../sdk and
// atotto/clipboard with a fork; repeat both with published versions.
module kiln.local/toolchain/pulumi

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v3.248.0
	github.com/pulumi/pulumi/sdk/v3 v3.248.0
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
