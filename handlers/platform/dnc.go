package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/platform"
	"switchboard/server"
)

// CreateDncList (POST /dnc-lists).
func (h *Handler) CreateDncList(ctx context.Context, req platformapi.CreateDncListRequestObject) (platformapi.CreateDncListResponseObject, error) {
	b := req.Body
	l, err := platform.CreateList(ctx, h.db, platform.ListFields{Name: &b.Name, Description: b.Description, Global: b.Global})
	if err != nil {
		return nil, err
	}
	return platformapi.CreateDncList201JSONResponse(toDncList(l)), nil
}

// ListDncLists (GET /dnc-lists).
func (h *Handler) ListDncLists(ctx context.Context, req platformapi.ListDncListsRequestObject) (platformapi.ListDncListsResponseObject, error) {
	page, err := platform.ListLists(ctx, h.db, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListDncLists200JSONResponse{Body: convert.Each(page.Items, toDncList),
		Headers: platformapi.ListDncLists200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetDncList (GET /dnc-lists/{list_id}).
func (h *Handler) GetDncList(ctx context.Context, req platformapi.GetDncListRequestObject) (platformapi.GetDncListResponseObject, error) {
	l, err := platform.GetList(ctx, h.db, req.ListId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetDncList200JSONResponse(toDncList(l)), nil
}

// UpdateDncList (PATCH /dnc-lists/{list_id}).
func (h *Handler) UpdateDncList(ctx context.Context, req platformapi.UpdateDncListRequestObject) (platformapi.UpdateDncListResponseObject, error) {
	b := req.Body
	l, err := platform.UpdateList(ctx, h.db, req.ListId, platform.ListFields{Name: b.Name, Description: b.Description, Global: b.Global})
	if err != nil {
		return nil, err
	}
	return platformapi.UpdateDncList200JSONResponse(toDncList(l)), nil
}

// DeleteDncList (DELETE /dnc-lists/{list_id}) deletes it with its numbers and attachments.
func (h *Handler) DeleteDncList(ctx context.Context, req platformapi.DeleteDncListRequestObject) (platformapi.DeleteDncListResponseObject, error) {
	if err := platform.DeleteList(ctx, h.db, req.ListId); err != nil {
		return nil, err
	}
	return platformapi.DeleteDncList204Response{}, nil
}

// AttachDncList (PUT /dnc-lists/{list_id}/campaigns/{campaign_id}).
func (h *Handler) AttachDncList(ctx context.Context, req platformapi.AttachDncListRequestObject) (platformapi.AttachDncListResponseObject, error) {
	if err := platform.AttachList(ctx, h.db, req.ListId, req.CampaignId); err != nil {
		return nil, err
	}
	return platformapi.AttachDncList204Response{}, nil
}

// DetachDncList (DELETE /dnc-lists/{list_id}/campaigns/{campaign_id}).
func (h *Handler) DetachDncList(ctx context.Context, req platformapi.DetachDncListRequestObject) (platformapi.DetachDncListResponseObject, error) {
	if err := platform.DetachList(ctx, h.db, req.ListId, req.CampaignId); err != nil {
		return nil, err
	}
	return platformapi.DetachDncList204Response{}, nil
}

// LookupDnc (GET /dnc/lookup) answers the lists that hold the number and apply.
func (h *Handler) LookupDnc(ctx context.Context, req platformapi.LookupDncRequestObject) (platformapi.LookupDncResponseObject, error) {
	var campaign int64
	if req.Params.CampaignId != nil {
		campaign = *req.Params.CampaignId
	}
	n, refs, err := platform.Lookup(ctx, h.db, h.region, req.Params.Number, campaign)
	if err != nil {
		return nil, err
	}
	return platformapi.LookupDnc200JSONResponse{Number: n, Lists: convert.Each(refs, toListRef)}, nil
}
