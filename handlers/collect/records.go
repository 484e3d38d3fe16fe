package collect

import (
	"context"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/gen/collectapi"
	"switchboard/models/collect"
)

// The data server (notes/vendors.md 1.1–1.4): records of the definitions made through the platform API,
// every query scoped by the database of the caller's token.

// scopeOf answers the scope of the authenticated caller's database.
func scopeOf(ctx context.Context) collect.Scope {
	return collect.Scope{DatabaseID: auth.PrincipalFrom(ctx).DatabaseID}
}

// record answers the caller's scope and its definition of record name (404 when the database has none).
func (h *Handler) record(ctx context.Context, name string) (collect.Scope, *collect.RecordDef, error) {
	s := scopeOf(ctx)
	d, err := collect.FindRecordDef(ctx, h.db, s, name)
	return s, d, err
}

func ref(d *collect.RecordDef) collectapi.RecordRef {
	return collectapi.RecordRef{RecId: d.Name, RowId: d.RowIDField}
}

func recordList(d *collect.RecordDef, page collect.RowPage) collectapi.RecordList {
	data := make([]collectapi.RecordData, len(page.Rows))
	for i, r := range page.Rows {
		data[i] = collectapi.RecordData(r)
	}
	return collectapi.RecordList{Status: collectapi.N200, Data: data, Type: collectapi.RecordPageInfo{
		RecId: d.Name, RowId: d.RowIDField, NumRecords: page.NumRecords, NumPages: page.NumPages}}
}

func recordResult(d *collect.RecordDef, data collect.Data) collectapi.RecordResult {
	return collectapi.RecordResult{Status: collectapi.N200, Type: ref(d), Data: collectapi.RecordData(data)}
}

// ListRecords (GET /api/v1/collect/data/{record}) answers one page of the record's rows.
func (h *Handler) ListRecords(ctx context.Context, req collectapi.ListRecordsRequestObject) (collectapi.ListRecordsResponseObject, error) {
	s, d, err := h.record(ctx, req.Record)
	if err != nil {
		return nil, err
	}
	p := req.Params
	page, err := collect.ListRows(ctx, h.db, s, d, collect.RowQuery{Filter: convert.Deref(p.Filter), Fields: convert.Deref(p.Fields),
		Sort: convert.Deref(p.Sort), Limit: convert.Deref(p.Limit), Page: convert.Deref(p.Page)})
	if err != nil {
		return nil, err
	}
	return collectapi.ListRecords200JSONResponse(recordList(d, page)), nil
}

// GetRecord (GET /api/v1/collect/data/{record}/{rowid}).
func (h *Handler) GetRecord(ctx context.Context, req collectapi.GetRecordRequestObject) (collectapi.GetRecordResponseObject, error) {
	d, data, err := h.defs.GetRowCached(ctx, h.db, scopeOf(ctx), req.Record, req.Rowid, convert.Deref(req.Params.Fields))
	if err != nil {
		return nil, err
	}
	return collectapi.GetRecord200JSONResponse(recordResult(d, data)), nil
}

// GetRecordCounts (GET /api/v1/collect/data/{record}/{rowid}/counts): each sub-record's rows attached to the
// record.
func (h *Handler) GetRecordCounts(ctx context.Context, req collectapi.GetRecordCountsRequestObject) (collectapi.GetRecordCountsResponseObject, error) {
	s, d, err := h.record(ctx, req.Record)
	if err != nil {
		return nil, err
	}
	counts, err := collect.CountSubRows(ctx, h.db, s, d, req.Rowid)
	if err != nil {
		return nil, err
	}
	return collectapi.GetRecordCounts200JSONResponse{Status: collectapi.N200, Type: ref(d), Data: counts}, nil
}

// ListSubRecords (GET /api/v1/collect/data/{record}/{rowid}/{subrecord}) answers one page of the sub-record's
// rows attached to the record.
func (h *Handler) ListSubRecords(ctx context.Context, req collectapi.ListSubRecordsRequestObject) (collectapi.ListSubRecordsResponseObject, error) {
	s, d, err := h.record(ctx, req.Record)
	if err != nil {
		return nil, err
	}
	sub, err := collect.SubRecord(ctx, h.db, s, d, req.Rowid, req.Subrecord)
	if err != nil {
		return nil, err
	}
	p := req.Params
	page, err := collect.ListSubRows(ctx, h.db, s, sub, req.Rowid, collect.RowQuery{Filter: convert.Deref(p.Filter),
		Fields: convert.Deref(p.Fields), Sort: convert.Deref(p.Sort), Limit: convert.Deref(p.Limit), Page: convert.Deref(p.Page)})
	if err != nil {
		return nil, err
	}
	return collectapi.ListSubRecords200JSONResponse(recordList(sub, page)), nil
}

// CreateRecord (POST /api/v1/collect/data/{record}) stores one record with its business-logic mode; mode 1
// stores nothing and answers the virtual record.
func (h *Handler) CreateRecord(ctx context.Context, req collectapi.CreateRecordRequestObject) (collectapi.CreateRecordResponseObject, error) {
	s, d, err := h.record(ctx, req.Record)
	if err != nil {
		return nil, err
	}
	_, data, err := collect.CreateRow(ctx, h.db, s, d, int(req.Body.BusinessLogic), req.Body.Data)
	if err != nil {
		return nil, err
	}
	return collectapi.CreateRecord200JSONResponse(recordResult(d, data)), nil
}

// UpdateRecord (PATCH /api/v1/collect/data/{record}/{rowid}) changes only the fields sent.
func (h *Handler) UpdateRecord(ctx context.Context, req collectapi.UpdateRecordRequestObject) (collectapi.UpdateRecordResponseObject, error) {
	s, d, err := h.record(ctx, req.Record)
	if err != nil {
		return nil, err
	}
	data, err := collect.UpdateRow(ctx, h.db, s, d, req.Rowid, req.Body.Data)
	if err != nil {
		return nil, err
	}
	return collectapi.UpdateRecord200JSONResponse(recordResult(d, data)), nil
}

// DeleteRecord (DELETE /api/v1/collect/data/{record}/{rowid}) deletes one record; one that sub-records still
// link to answers 409.
func (h *Handler) DeleteRecord(ctx context.Context, req collectapi.DeleteRecordRequestObject) (collectapi.DeleteRecordResponseObject, error) {
	s, d, err := h.record(ctx, req.Record)
	if err != nil {
		return nil, err
	}
	blobs, err := collect.DeleteRow(ctx, h.db, s, d, req.Rowid)
	if err != nil {
		return nil, err
	}
	for _, key := range blobs {
		h.dropBlob(ctx, key)
	}
	return collectapi.DeleteRecord200JSONResponse{Status: collectapi.N200, Type: ref(d)}, nil
}
