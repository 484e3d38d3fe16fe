package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models"
	"switchboard/models/platform"
	"switchboard/server"
)

// AddDncNumbers (POST /dnc-lists/{list_id}/numbers) adds up to 1000 numbers, all or none.
func (h *Handler) AddDncNumbers(ctx context.Context, req platformapi.AddDncNumbersRequestObject) (platformapi.AddDncNumbersResponseObject, error) {
	a, err := platform.AddNumbers(ctx, h.db, h.region, req.ListId, req.Body.Numbers)
	if err != nil {
		return nil, err
	}
	return platformapi.AddDncNumbers200JSONResponse{Added: a.Added, Duplicates: a.Duplicates}, nil
}

// ListDncNumbers (GET /dnc-lists/{list_id}/numbers) pages by number.
func (h *Handler) ListDncNumbers(ctx context.Context, req platformapi.ListDncNumbersRequestObject) (platformapi.ListDncNumbersResponseObject, error) {
	lq := window(req.Params.Limit, nil)
	after := ""
	if req.Params.After != nil {
		after = *req.Params.After
	}
	page, err := platform.ListNumbers(ctx, h.db, req.ListId, lq.Limit, after)
	if err != nil {
		return nil, err
	}
	var link *string
	if page.Next != "" {
		link = server.NextLink(ctx, map[string]string{"after": page.Next})
	}
	return platformapi.ListDncNumbers200JSONResponse{Body: convert.Each(page.Items, toDncNumber),
		Headers: platformapi.ListDncNumbers200ResponseHeaders{Link: link}}, nil
}

// DeleteDncNumber (DELETE /dnc-lists/{list_id}/numbers/{number}).
func (h *Handler) DeleteDncNumber(ctx context.Context, req platformapi.DeleteDncNumberRequestObject) (platformapi.DeleteDncNumberResponseObject, error) {
	if err := platform.DeleteNumber(ctx, h.db, h.region, req.ListId, req.Number); err != nil {
		return nil, err
	}
	return platformapi.DeleteDncNumber204Response{}, nil
}

// ImportDncNumbersCsv (POST /dnc-lists/{list_id}/numbers/csv) streams the upload (text/plain arrives as
// text/csv: Register); the server has capped it at the upload limit.
func (h *Handler) ImportDncNumbersCsv(ctx context.Context, req platformapi.ImportDncNumbersCsvRequestObject) (platformapi.ImportDncNumbersCsvResponseObject, error) {
	if req.Body == nil {
		return nil, models.Errorf(models.Unsupported, "Content-Type must be text/csv or text/plain")
	}
	rep, err := platform.ImportNumbers(ctx, h.db, h.region, req.ListId, req.Body)
	if err != nil {
		return nil, err
	}
	return platformapi.ImportDncNumbersCsv200JSONResponse{Rows: rep.Rows, Added: rep.Added, Duplicates: rep.Duplicates}, nil
}
