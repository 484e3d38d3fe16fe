// Package collectapi is generated from openapi/collect.yaml: models, the echo strict server, a Go client,
// and Unimplemented (every operation answering ErrNotImplemented). Never edit it; run make generate.
package collectapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../openapi/collect.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi/collect.yaml
//go:generate go run ../../tools/stubgen -package collectapi -out stubs.gen.go server.gen.go
