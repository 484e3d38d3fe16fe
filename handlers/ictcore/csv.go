package ictcore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/contactcsv"
	"switchboard/gen/ictcoreapi"
	"switchboard/models/ictcore"
)

// ImportGroupCsv (POST /groups/{group_id}/csv) streams the upload into the group. The server has already
// capped the body at the upload limit; a larger body fails the read, and the import is undone.
func (h *Handler) ImportGroupCsv(ctx context.Context, req ictcoreapi.ImportGroupCsvRequestObject) (ictcoreapi.ImportGroupCsvResponseObject, error) {
	if _, err := ictcore.GetGroup(ctx, h.db, ownerOf(ctx), req.GroupId); err != nil {
		return nil, err // another user's group is not found, before a byte of the body is read
	}
	rep, err := contactcsv.Import(ctx, h.db, req.GroupId, auth.PrincipalFrom(ctx).UserID, req.Body)
	if err != nil {
		return nil, err
	}
	out := ictcoreapi.ImportGroupCsv200JSONResponse{
		GroupId: req.GroupId, Imported: rep.Imported, Rejected: rep.Rejected,
		Errors: make([]ictcoreapi.CsvRowError, len(rep.Errors)), ErrorsTruncated: rep.ErrorsTruncated,
	}
	for i, e := range rep.Errors {
		out.Errors[i] = ictcoreapi.CsvRowError{Line: e.Line, Message: e.Message}
	}
	return out, nil
}

// SweepImports cleans up the CSV imports a killed process left behind (ictcore.SweepImports); it runs at
// start. A failure is only logged: the next import sweeps again, and until then those rows stay invisible.
func SweepImports(ctx context.Context, db *gorm.DB, log *slog.Logger) {
	if err := ictcore.SweepImports(ctx, db, ictcore.ImportStaleAfter); err != nil {
		log.WarnContext(ctx, "sweep of abandoned CSV imports failed", "error", err)
	}
}

// ExportGroupCsv (GET /groups/{group_id}/csv) streams the group's contacts as they are read.
func (h *Handler) ExportGroupCsv(ctx context.Context, req ictcoreapi.ExportGroupCsvRequestObject) (ictcoreapi.ExportGroupCsvResponseObject, error) {
	if _, err := ictcore.GetGroup(ctx, h.db, ownerOf(ctx), req.GroupId); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		// An error after the first byte can only cut the stream short; the reader sees it as a failed read.
		pw.CloseWithError(contactcsv.Export(ctx, h.db, req.GroupId, pw))
	}()
	name := fmt.Sprintf(`attachment; filename="group_%d.csv"`, req.GroupId)
	return ictcoreapi.ExportGroupCsv200TextcsvResponse{
		Body: pr, Headers: ictcoreapi.ExportGroupCsv200ResponseHeaders{ContentDisposition: &name},
	}, nil
}

// GetGroupCsvSample (GET /groups/sample/csv).
func (h *Handler) GetGroupCsvSample(ctx context.Context, _ ictcoreapi.GetGroupCsvSampleRequestObject) (ictcoreapi.GetGroupCsvSampleResponseObject, error) {
	name := `attachment; filename="contact_sample.csv"`
	return ictcoreapi.GetGroupCsvSample200TextcsvResponse{
		Body: strings.NewReader(contactcsv.Sample), ContentLength: int64(len(contactcsv.Sample)),
		Headers: ictcoreapi.GetGroupCsvSample200ResponseHeaders{ContentDisposition: &name},
	}, nil
}
