package collect

import (
	"context"

	"switchboard/gen/collectapi"
	"switchboard/models/collect"
)

// GetForm (GET /api/v1/collect/ui/forms/{formid}) answers a form of the caller's database, as defined through
// the platform API. Access rights per operator are not modelled (every operator of the database holds every
// operation), so every field is served, with the editable flag it was defined with.
func (h *Handler) GetForm(ctx context.Context, req collectapi.GetFormRequestObject) (collectapi.GetFormResponseObject, error) {
	f, err := collect.GetForm(ctx, h.db, scopeOf(ctx), req.Formid)
	if err != nil {
		return nil, err
	}
	out := collectapi.Form{Id: f.UUID, Name: f.Name, Width: f.Width, Height: f.Height,
		Fields: make([]collectapi.FormField, len(f.Fields)), Buttons: make([]collectapi.FormButton, len(f.Buttons))}
	if f.Alias != "" {
		out.Alias = &f.Alias
	}
	for i, it := range f.Fields {
		out.Fields[i] = collectapi.FormField{Id: it.UUID, Name: it.Name, Label: it.Label, Editable: it.Editable}
		if it.Alias != "" {
			out.Fields[i].Alias = &f.Fields[i].Alias
		}
	}
	for i, it := range f.Buttons {
		out.Buttons[i] = collectapi.FormButton{Id: it.UUID, Label: it.Label, Value: it.Value}
	}
	return collectapi.GetForm200JSONResponse{Status: collectapi.N200, Form: out}, nil
}
