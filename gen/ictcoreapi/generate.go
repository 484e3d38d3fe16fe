// Package ictcoreapi is generated from openapi/ictcore.yaml: models, the echo strict server, a Go client,
// and Unimplemented (every operation answering ErrNotImplemented). Never edit it; run make generate.
package ictcoreapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../openapi/ictcore.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi/ictcore.yaml
//go:generate go run ../../tools/stubgen -package ictcoreapi -out stubs.gen.go server.gen.go
