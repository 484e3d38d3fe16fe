// Package ucontactapi is generated from openapi/ucontact.yaml: models, the echo strict server, a Go client,
// and Unimplemented (every operation answering ErrNotImplemented). Never edit it; run make generate.
package ucontactapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../openapi/ucontact.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi/ucontact.yaml
//go:generate go run ../../tools/stubgen -package ucontactapi -out stubs.gen.go server.gen.go
