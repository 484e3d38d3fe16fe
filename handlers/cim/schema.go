package cim

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/cimapi"
	"switchboard/models/cim"
	"switchboard/server"
)

// GetSchema (GET /getSchema) answers the attributes: the predefined ones, then the custom ones.
func (h *Handler) GetSchema(ctx context.Context, req cimapi.GetSchemaRequestObject) (cimapi.GetSchemaResponseObject, error) {
	page, err := cim.ListAttributes(ctx, h.db, window(req.Params.Limit, req.Params.Offset, req.Params.Count))
	if err != nil {
		return nil, err
	}
	return cimapi.GetSchema200JSONResponse{Body: convert.Each(page.Items, toAttribute),
		Headers: cimapi.GetSchema200ResponseHeaders{Link: server.PageLink(ctx, page, ""), XTotalCount: total(page)}}, nil
}

// SaveSchema (POST /saveSchema) adds a custom attribute.
func (h *Handler) SaveSchema(ctx context.Context, req cimapi.SaveSchemaRequestObject) (cimapi.SaveSchemaResponseObject, error) {
	a, err := cim.SaveAttribute(ctx, h.db, cim.AttributeInput{Key: &req.Body.Key, Label: req.Body.Label, Type: req.Body.Type})
	if err != nil {
		return nil, err
	}
	return cimapi.SaveSchema200JSONResponse(toAttribute(a)), nil
}

// UpdateSchemaAttribute (PUT /schema/{schema_id}) changes an attribute's label.
func (h *Handler) UpdateSchemaAttribute(ctx context.Context, req cimapi.UpdateSchemaAttributeRequestObject) (cimapi.UpdateSchemaAttributeResponseObject, error) {
	n, err := id(req.SchemaId, "attribute")
	if err != nil {
		return nil, err
	}
	a, err := cim.UpdateAttribute(ctx, h.db, n, cim.AttributeInput{Key: req.Body.Key, Label: req.Body.Label, Type: req.Body.Type})
	if err != nil {
		return nil, err
	}
	return cimapi.UpdateSchemaAttribute200JSONResponse(toAttribute(a)), nil
}

// DeleteSchemaAttribute (DELETE /schema/{schema_id}) deletes a custom attribute with its values.
func (h *Handler) DeleteSchemaAttribute(ctx context.Context, req cimapi.DeleteSchemaAttributeRequestObject) (cimapi.DeleteSchemaAttributeResponseObject, error) {
	n, err := id(req.SchemaId, "attribute")
	if err != nil {
		return nil, err
	}
	a, err := cim.DeleteAttribute(ctx, h.db, n)
	if err != nil {
		return nil, err
	}
	return cimapi.DeleteSchemaAttribute200JSONResponse(toAttribute(a)), nil
}
