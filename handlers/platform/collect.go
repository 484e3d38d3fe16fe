package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models/collect"
	"switchboard/server"
)

// The Collect! administration: databases and their operators. Every operator operation is scoped by the
// database of its path (collect.Scope), so an operator id of another database answers 404.

// CreateCollectDatabase (POST /collect-databases) stores an empty database.
func (h *Handler) CreateCollectDatabase(ctx context.Context, req platformapi.CreateCollectDatabaseRequestObject) (platformapi.CreateCollectDatabaseResponseObject, error) {
	d, err := collect.CreateDatabase(ctx, h.db, req.Body.Name)
	if err != nil {
		return nil, err
	}
	return platformapi.CreateCollectDatabase201JSONResponse(toCollectDatabase(d)), nil
}

// ListCollectDatabases (GET /collect-databases) answers a page of databases.
func (h *Handler) ListCollectDatabases(ctx context.Context, req platformapi.ListCollectDatabasesRequestObject) (platformapi.ListCollectDatabasesResponseObject, error) {
	page, err := collect.ListDatabases(ctx, h.db, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListCollectDatabases200JSONResponse{Body: convert.Each(page.Items, toCollectDatabase),
		Headers: platformapi.ListCollectDatabases200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetCollectDatabase (GET /collect-databases/{database_id}).
func (h *Handler) GetCollectDatabase(ctx context.Context, req platformapi.GetCollectDatabaseRequestObject) (platformapi.GetCollectDatabaseResponseObject, error) {
	d, err := collect.GetDatabase(ctx, h.db, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetCollectDatabase200JSONResponse(toCollectDatabase(d)), nil
}

// DeleteCollectDatabase (DELETE /collect-databases/{database_id}): only an empty database (else 409).
func (h *Handler) DeleteCollectDatabase(ctx context.Context, req platformapi.DeleteCollectDatabaseRequestObject) (platformapi.DeleteCollectDatabaseResponseObject, error) {
	if err := collect.DeleteDatabase(ctx, h.db, req.DatabaseId); err != nil {
		return nil, err
	}
	return platformapi.DeleteCollectDatabase204Response{}, nil
}

// scopeOf answers the scope of database id, which must exist (else NotFound).
func (h *Handler) scopeOf(ctx context.Context, id int64) (collect.Scope, error) {
	d, err := collect.GetDatabase(ctx, h.db, id)
	if err != nil {
		return collect.Scope{}, err
	}
	return d.Scope(), nil
}

// CreateCollectOperator (POST /collect-databases/{database_id}/operators).
func (h *Handler) CreateCollectOperator(ctx context.Context, req platformapi.CreateCollectOperatorRequestObject) (platformapi.CreateCollectOperatorResponseObject, error) {
	b := req.Body
	o, err := collect.CreateOperator(ctx, h.db, collect.Scope{DatabaseID: req.DatabaseId}, collect.OperatorFields{
		OpID: &b.OpId, OpName: b.OpName, Password: &b.Password, OpLevel: b.OpLevel, OpFunction: b.OpFunction, Active: b.Active})
	if err != nil {
		return nil, err
	}
	return platformapi.CreateCollectOperator201JSONResponse(toCollectOperator(o)), nil
}

// ListCollectOperators (GET /collect-databases/{database_id}/operators): a database that does not exist is
// a 404, not an empty list.
func (h *Handler) ListCollectOperators(ctx context.Context, req platformapi.ListCollectOperatorsRequestObject) (platformapi.ListCollectOperatorsResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	page, err := collect.ListOperators(ctx, h.db, s, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListCollectOperators200JSONResponse{Body: convert.Each(page.Items, toCollectOperator),
		Headers: platformapi.ListCollectOperators200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetCollectOperator (GET /collect-databases/{database_id}/operators/{operator_id}).
func (h *Handler) GetCollectOperator(ctx context.Context, req platformapi.GetCollectOperatorRequestObject) (platformapi.GetCollectOperatorResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	o, err := collect.GetOperator(ctx, h.db, s, req.OperatorId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetCollectOperator200JSONResponse(toCollectOperator(o)), nil
}

// UpdateCollectOperator (PATCH /collect-databases/{database_id}/operators/{operator_id}).
func (h *Handler) UpdateCollectOperator(ctx context.Context, req platformapi.UpdateCollectOperatorRequestObject) (platformapi.UpdateCollectOperatorResponseObject, error) {
	b := req.Body
	o, err := collect.UpdateOperator(ctx, h.db, collect.Scope{DatabaseID: req.DatabaseId}, req.OperatorId, collect.OperatorFields{
		OpID: b.OpId, OpName: b.OpName, Password: b.Password, OpLevel: b.OpLevel, OpFunction: b.OpFunction, Active: b.Active})
	if err != nil {
		return nil, err
	}
	return platformapi.UpdateCollectOperator200JSONResponse(toCollectOperator(o)), nil
}

// DeleteCollectOperator (DELETE /collect-databases/{database_id}/operators/{operator_id}) deletes the
// operator and ends its sessions.
func (h *Handler) DeleteCollectOperator(ctx context.Context, req platformapi.DeleteCollectOperatorRequestObject) (platformapi.DeleteCollectOperatorResponseObject, error) {
	if err := collect.DeleteOperator(ctx, h.db, collect.Scope{DatabaseID: req.DatabaseId}, req.OperatorId); err != nil {
		return nil, err
	}
	return platformapi.DeleteCollectOperator204Response{}, nil
}

func toCollectDatabase(d *collect.Database) platformapi.CollectDatabase {
	return platformapi.CollectDatabase{Id: d.ID, Name: d.Name, CreatedAt: unixTime(d.CreatedAt)}
}

func toCollectOperator(o *collect.Operator) platformapi.CollectOperator {
	return platformapi.CollectOperator{Id: o.ID, DatabaseId: o.DatabaseID, OpId: o.OpID, OpName: o.OpName,
		OpLevel: o.OpLevel, OpFunction: o.OpFunction, Active: o.Active,
		CreatedAt: unixTime(o.CreatedAt), UpdatedAt: unixTime(o.UpdatedAt)}
}

// CreateCollectRecordDef (POST /collect-databases/{database_id}/records) defines a record of the database.
func (h *Handler) CreateCollectRecordDef(ctx context.Context, req platformapi.CreateCollectRecordDefRequestObject) (platformapi.CreateCollectRecordDefResponseObject, error) {
	b := req.Body
	in := collect.RecordDefInput{Name: b.Name, RowIDField: b.RowidField}
	for _, f := range b.Fields {
		in.Fields = append(in.Fields, collect.FieldInput{Name: f.Name, Type: string(f.Type), Default: f.Default})
	}
	if b.Parent != nil {
		in.Parent, in.ParentField = b.Parent.Record, b.Parent.Field
	}
	d, err := collect.CreateRecordDef(ctx, h.db, collect.Scope{DatabaseID: req.DatabaseId}, in)
	if err != nil {
		return nil, err
	}
	return platformapi.CreateCollectRecordDef201JSONResponse(toCollectRecordDef(d)), nil
}

// ListCollectRecordDefs (GET /collect-databases/{database_id}/records): a database that does not exist is a
// 404, not an empty list.
func (h *Handler) ListCollectRecordDefs(ctx context.Context, req platformapi.ListCollectRecordDefsRequestObject) (platformapi.ListCollectRecordDefsResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	page, err := collect.ListRecordDefs(ctx, h.db, s, window(req.Params.Limit, req.Params.After))
	if err != nil {
		return nil, err
	}
	return platformapi.ListCollectRecordDefs200JSONResponse{Body: convert.Each(page.Items, toCollectRecordDef),
		Headers: platformapi.ListCollectRecordDefs200ResponseHeaders{Link: server.PageLink(ctx, page, "after")}}, nil
}

// GetCollectRecordDef (GET /collect-databases/{database_id}/records/{record_id}).
func (h *Handler) GetCollectRecordDef(ctx context.Context, req platformapi.GetCollectRecordDefRequestObject) (platformapi.GetCollectRecordDefResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	d, err := collect.GetRecordDef(ctx, h.db, s, req.RecordId)
	if err != nil {
		return nil, err
	}
	return platformapi.GetCollectRecordDef200JSONResponse(toCollectRecordDef(d)), nil
}

// DeleteCollectRecordDef (DELETE /collect-databases/{database_id}/records/{record_id}): only a definition
// without rows or sub-record definitions (else 409).
func (h *Handler) DeleteCollectRecordDef(ctx context.Context, req platformapi.DeleteCollectRecordDefRequestObject) (platformapi.DeleteCollectRecordDefResponseObject, error) {
	s, err := h.scopeOf(ctx, req.DatabaseId)
	if err != nil {
		return nil, err
	}
	if err := collect.DeleteRecordDef(ctx, h.db, s, req.RecordId); err != nil {
		return nil, err
	}
	return platformapi.DeleteCollectRecordDef204Response{}, nil
}

func toCollectRecordDef(d *collect.RecordDef) platformapi.CollectRecordDef {
	out := platformapi.CollectRecordDef{Id: d.ID, DatabaseId: d.DatabaseID, Name: d.Name, RowidField: d.RowIDField,
		Fields: make([]platformapi.CollectFieldDef, len(d.Fields)), CreatedAt: unixTime(d.CreatedAt)}
	for i, f := range d.Fields {
		out.Fields[i] = platformapi.CollectFieldDef{Name: f.Name, Type: platformapi.CollectFieldDefType(f.Type)}
		if f.Default != "" {
			out.Fields[i].Default = &f.Default
		}
	}
	if d.Parent != "" {
		out.Parent = &platformapi.CollectRecordParent{Record: d.Parent, Field: d.ParentField}
	}
	return out
}
