// Package accoladesapi is generated from openapi/accolades-api.yaml (the Accolades REST API): models, the
// echo strict server, a Go client, and Unimplemented (every operation answering ErrNotImplemented). Never
// edit it; run make generate.
package accoladesapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../openapi/accolades-api.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi/accolades-api.yaml
//go:generate go run ../../tools/stubgen -package accoladesapi -out stubs.gen.go server.gen.go
