package cim

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/cimapi"
	"switchboard/models/cim"
	"switchboard/server"
)

// GetMapping (GET /mapping) answers the search criteria.
func (h *Handler) GetMapping(ctx context.Context, req cimapi.GetMappingRequestObject) (cimapi.GetMappingResponseObject, error) {
	page, err := cim.ListMappings(ctx, h.db, window(req.Params.Limit, req.Params.Offset, req.Params.Count))
	if err != nil {
		return nil, err
	}
	return cimapi.GetMapping200JSONResponse{Body: convert.Each(page.Items, toMapping),
		Headers: cimapi.GetMapping200ResponseHeaders{Link: server.PageLink(ctx, page, ""), XTotalCount: total(page)}}, nil
}

// AddMappingCondition (POST /mapping) adds a condition.
func (h *Handler) AddMappingCondition(ctx context.Context, req cimapi.AddMappingConditionRequestObject) (cimapi.AddMappingConditionResponseObject, error) {
	m, err := cim.AddMapping(ctx, h.db, fromMapping(req.Body))
	if err != nil {
		return nil, err
	}
	return cimapi.AddMappingCondition200JSONResponse(toMapping(m)), nil
}

// UpdateMappingCondition (PUT /mapping/{id}) replaces a condition.
func (h *Handler) UpdateMappingCondition(ctx context.Context, req cimapi.UpdateMappingConditionRequestObject) (cimapi.UpdateMappingConditionResponseObject, error) {
	n, err := id(req.Id, "mapping condition")
	if err != nil {
		return nil, err
	}
	m, err := cim.UpdateMapping(ctx, h.db, n, fromMapping(req.Body))
	if err != nil {
		return nil, err
	}
	return cimapi.UpdateMappingCondition200JSONResponse(toMapping(m)), nil
}

// DeleteMappingCondition (DELETE /mapping/{id}) deletes a condition and answers it as it was.
func (h *Handler) DeleteMappingCondition(ctx context.Context, req cimapi.DeleteMappingConditionRequestObject) (cimapi.DeleteMappingConditionResponseObject, error) {
	n, err := id(req.Id, "mapping condition")
	if err != nil {
		return nil, err
	}
	m, err := cim.DeleteMapping(ctx, h.db, n)
	if err != nil {
		return nil, err
	}
	return cimapi.DeleteMappingCondition200JSONResponse(toMapping(m)), nil
}
