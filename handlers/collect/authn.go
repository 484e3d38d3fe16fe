package collect

import (
	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/collect"
)

var errNoToken = models.Errorf(models.Unauthenticated, "not authorized: missing access token (Authorization: Bearer)")

// Identify reads a request's access token (Authorization: Bearer) and holds it to the database the request
// names (x-collect-database, or the default database): a token of another database, a refresh token, an
// expired or revoked one, or an inactive operator answer 401.
func (h *Handler) Identify(c echo.Context) (*auth.Principal, error) {
	r := c.Request()
	tok, ok := auth.Bearer(r.Header.Get(echo.HeaderAuthorization))
	if !ok {
		return nil, errNoToken
	}
	var name *string
	if v := r.Header.Get("x-collect-database"); v != "" {
		name = &v
	}
	caller, err := h.sessions.Authenticate(r.Context(), databaseOf(name), tok)
	if err != nil {
		return nil, err
	}
	return &auth.Principal{UserID: caller.Operator.ID, Username: caller.Operator.OpID,
		DatabaseID: caller.Database.ID, SessionID: caller.SessionID}, nil
}

// callerOf answers the session an authenticated request's principal stands for.
func callerOf(p *auth.Principal) *collect.Caller {
	return &collect.Caller{Operator: collect.Operator{ID: p.UserID, DatabaseID: p.DatabaseID, OpID: p.Username},
		Database: collect.Database{ID: p.DatabaseID}, SessionID: p.SessionID}
}

// permOperator is every secured operation: Collect!'s access rights per operator are not modelled yet, so
// an authenticated operator may call every operation of its own database (forms, plans, reports and files answer 501).
const permOperator = "operator"

// Allows: a Collect! operator's principal (one that carries its database) holds permOperator.
func (h *Handler) Allows(p *auth.Principal, perm string) bool {
	return perm == permOperator && p.DatabaseID != 0 && p.SessionID != 0
}

// Permissions is the operationId → permissions table.
func (h *Handler) Permissions() map[string][]string { return permissions }

// permissions lists every secured operation of openapi/collect.yaml (login and refresh take no token); an
// operation without an entry is refused with 500 (fail closed).
var permissions = map[string][]string{
	"logout":          {permOperator},
	"listRecords":     {permOperator},
	"createRecord":    {permOperator},
	"getRecord":       {permOperator},
	"updateRecord":    {permOperator},
	"deleteRecord":    {permOperator},
	"getRecordCounts": {permOperator},
	"listSubRecords":  {permOperator},
	"getForm":         {permOperator},
	"runPlan":         {permOperator},
	"runReport":       {permOperator},
	"uploadFile":      {permOperator},
	"downloadFile":    {permOperator},
}
