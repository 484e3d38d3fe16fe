package platform

import (
	"context"

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
	return platformapi.ListCollectDatabases200JSONResponse{Body: mapAll(page.Items, toCollectDatabase),
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
	return platformapi.ListCollectOperators200JSONResponse{Body: mapAll(page.Items, toCollectOperator),
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
