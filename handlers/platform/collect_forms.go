package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/collect"
	"switchboard/server"
)

// Collect! user interface forms (issue 9, item 4): defined here, answered by the Collect! API's getForm.

// CreateCollectForm (POST /collect-databases/{database_id}/forms).
func (h *Handler) CreateCollectForm(ctx context.Context, req platformapi.CreateCollectFormRequestObject) (platformapi.CreateCollectFormResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	b := req.Body
	f := &collect.Form{UUID: convert.Deref(b.Id), Name: b.Name, Alias: convert.Deref(b.Alias), Width: b.Width, Height: b.Height}
	if b.Fields != nil {
		for _, it := range *b.Fields {
			f.Fields = append(f.Fields, collect.FormItem{UUID: convert.Deref(it.Id), Name: it.Name, Label: it.Label,
				Alias: convert.Deref(it.Alias), Editable: convert.Deref(it.Editable)})
		}
	}
	if b.Buttons != nil {
		for _, it := range *b.Buttons {
			f.Buttons = append(f.Buttons, collect.FormItem{UUID: convert.Deref(it.Id), Label: it.Label, Value: it.Value})
		}
	}
	if err := collect.CreateForm(ctx, h.db, s, f); err != nil {
		return nil, err
	}
	return platformapi.CreateCollectForm201JSONResponse(toCollectForm(f)), nil
}

// ListCollectForms (GET /collect-databases/{database_id}/forms).
func (h *Handler) ListCollectForms(ctx context.Context, req platformapi.ListCollectFormsRequestObject) (platformapi.ListCollectFormsResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	page, err := collect.ListForms(ctx, h.db, s, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListCollectForms200JSONResponse{Body: convert.Each(page.Items, toCollectForm),
		Headers: platformapi.ListCollectForms200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetCollectForm (GET /collect-databases/{database_id}/forms/{form_id}).
func (h *Handler) GetCollectForm(ctx context.Context, req platformapi.GetCollectFormRequestObject) (platformapi.GetCollectFormResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	f, err := collect.GetForm(ctx, h.db, s, req.FormId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetCollectForm200JSONResponse(toCollectForm(f)), nil
}

// DeleteCollectForm (DELETE /collect-databases/{database_id}/forms/{form_id}).
func (h *Handler) DeleteCollectForm(ctx context.Context, req platformapi.DeleteCollectFormRequestObject) (platformapi.DeleteCollectFormResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	if err := collect.DeleteForm(ctx, h.db, s, req.FormId); err != nil {
		return nil, err
	}
	return platformapi.DeleteCollectForm204Response{}, nil
}

func toCollectForm(f *collect.Form) platformapi.CollectForm {
	out := platformapi.CollectForm{Id: f.UUID, DatabaseId: f.DatabaseID, Name: f.Name, Width: f.Width, Height: f.Height,
		Fields: make([]platformapi.CollectFormField, len(f.Fields)), Buttons: make([]platformapi.CollectFormButton, len(f.Buttons)),
		CreatedAt: unixTime(f.CreatedAt)}
	if f.Alias != "" {
		out.Alias = &f.Alias
	}
	for i, it := range f.Fields {
		out.Fields[i] = platformapi.CollectFormField{Id: &it.UUID, Name: it.Name, Label: it.Label, Editable: &it.Editable}
		if it.Alias != "" {
			out.Fields[i].Alias = &it.Alias
		}
	}
	for i, it := range f.Buttons {
		out.Buttons[i] = platformapi.CollectFormButton{Id: &it.UUID, Label: it.Label, Value: it.Value}
	}
	return out
}
