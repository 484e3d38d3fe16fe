// Package platformapi is generated from openapi/platform.yaml: models, the echo strict server, a Go client,
// and Unimplemented (every operation answering ErrNotImplemented). Never edit it; run make generate.
package platformapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../openapi/platform.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi/platform.yaml
//go:generate go run ../../tools/stubgen -package platformapi -out stubs.gen.go server.gen.go
