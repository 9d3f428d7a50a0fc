// Wrapper module for the Node.js language host from sdk/v3 v3.68.0 (see versions.sh for why that
// release): sdk/v3's go.mod pins golang.org/x/text with a replace, repeated here.
module kiln.local/toolchain/pulumi-language-nodejs

go 1.18

require github.com/pulumi/pulumi/sdk/v3 v3.68.0

replace golang.org/x/text => golang.org/x/text v0.3.6
