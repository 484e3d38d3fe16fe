package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/collect"
	"switchboard/server"
)

// Collect! reports (issue 9, item 4): defined here, run by the Collect! API's runReport.

// CreateCollectReport (POST /collect-databases/{database_id}/reports).
func (h *Handler) CreateCollectReport(ctx context.Context, req platformapi.CreateCollectReportRequestObject) (platformapi.CreateCollectReportResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	b := req.Body
	r, err := collect.CreateReport(ctx, h.db, s, collect.ReportInput{Name: b.Name, StartOn: b.Starton, Title: convert.Deref(b.Title), Columns: b.Columns})
	if err != nil {
		return nil, err
	}
	return platformapi.CreateCollectReport201JSONResponse(toCollectReport(r)), nil
}

// ListCollectReports (GET /collect-databases/{database_id}/reports).
func (h *Handler) ListCollectReports(ctx context.Context, req platformapi.ListCollectReportsRequestObject) (platformapi.ListCollectReportsResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	page, err := collect.ListReports(ctx, h.db, s, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListCollectReports200JSONResponse{Body: convert.Each(page.Items, toCollectReport),
		Headers: platformapi.ListCollectReports200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetCollectReport (GET /collect-databases/{database_id}/reports/{report_id}).
func (h *Handler) GetCollectReport(ctx context.Context, req platformapi.GetCollectReportRequestObject) (platformapi.GetCollectReportResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	r, err := collect.GetReport(ctx, h.db, s, req.ReportId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetCollectReport200JSONResponse(toCollectReport(r)), nil
}

// DeleteCollectReport (DELETE /collect-databases/{database_id}/reports/{report_id}).
func (h *Handler) DeleteCollectReport(ctx context.Context, req platformapi.DeleteCollectReportRequestObject) (platformapi.DeleteCollectReportResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	if err := collect.DeleteReport(ctx, h.db, s, req.ReportId); err != nil {
		return nil, err
	}
	return platformapi.DeleteCollectReport204Response{}, nil
}

func toCollectReport(r *collect.Report) platformapi.CollectReport {
	out := platformapi.CollectReport{Id: r.ID, DatabaseId: r.DatabaseID, Name: r.Name, Starton: r.StartOn,
		Columns: r.Columns(), CreatedAt: unixTime(r.CreatedAt)}
	if r.Title != "" {
		out.Title = &r.Title
	}
	return out
}
