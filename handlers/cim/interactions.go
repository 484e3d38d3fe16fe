package cim

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/cimapi"
	"switchboard/models/cim"
	"switchboard/server"
)

// LoadInteractions (GET /interactions/loadInteractions/{id}) answers the calls of a contact, newest first.
func (h *Handler) LoadInteractions(ctx context.Context, req cimapi.LoadInteractionsRequestObject) (cimapi.LoadInteractionsResponseObject, error) {
	n, err := id(req.Id, "contact")
	if err != nil {
		return nil, err
	}
	page, err := cim.LoadInteractions(ctx, h.db, n, window(req.Params.Limit, req.Params.Offset, req.Params.Count))
	if err != nil {
		return nil, err
	}
	return cimapi.LoadInteractions200JSONResponse{Body: convert.Each(page.Items, toTree),
		Headers: cimapi.LoadInteractions200ResponseHeaders{Link: server.PageLink(ctx, page, ""), XTotalCount: total(page)}}, nil
}

// UpdateOrSaveInteractionTree (POST /interactions/updateOrSaveInteractionTree/{call_Id}) creates or updates
// the call's tree and the leg the body carries; the path's call id wins over the body's.
func (h *Handler) UpdateOrSaveInteractionTree(ctx context.Context, req cimapi.UpdateOrSaveInteractionTreeRequestObject) (cimapi.UpdateOrSaveInteractionTreeResponseObject, error) {
	l, err := cim.SaveInteraction(ctx, h.db, req.CallId, convert.Deref(req.Body.Ani), fromLeg(&req.Body.Interaction))
	if err != nil {
		return nil, err
	}
	return cimapi.UpdateOrSaveInteractionTree200JSONResponse(toLeg(l)), nil
}
