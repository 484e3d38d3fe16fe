// Package cimapi is generated from openapi/cim.yaml: models, the echo strict server, a Go client,
// and Unimplemented (every operation answering ErrNotImplemented). Never edit it; run make generate.
package cimapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../openapi/cim.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi/cim.yaml
//go:generate go run ../../tools/stubgen -package cimapi -out stubs.gen.go server.gen.go
