// Package switchboard embeds the hand-written contracts, so the binary validates against and serves
// exactly the files in openapi/.
package switchboard

import "embed"

// Contracts holds openapi/*.yaml and openapi/asyncapi/*.yaml.
//
//go:embed openapi/*.yaml openapi/asyncapi/*.yaml
var Contracts embed.FS
