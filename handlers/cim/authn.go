package cim

import (
	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/platform"
)

var (
	errNoKey  = models.Errorf(models.Unauthenticated, "a Switchboard API key is required (Authorization: Bearer KEY, or X-API-Key: KEY)")
	errBadKey = models.Errorf(models.Unauthenticated, "invalid credentials: not a Switchboard API key in force")
)

// Identify reads a request's Switchboard API key (ambiguity 19): X-API-Key when present, else
// Authorization: Bearer. Anything that is not a key in force (another API's token, a revoked key) is a 401;
// what a key may do is Allows's to say.
func (h *Handler) Identify(c echo.Context) (*auth.Principal, error) {
	r := c.Request()
	key := r.Header.Get("X-API-Key")
	if key == "" {
		key, _ = auth.Bearer(r.Header.Get(echo.HeaderAuthorization))
	}
	if key == "" {
		return nil, errNoKey
	}
	k, err := platform.AuthenticateKey(r.Context(), h.db, key)
	if models.KindOf(err) == models.Unauthenticated {
		return nil, errBadKey
	}
	if err != nil {
		return nil, err
	}
	return &auth.Principal{KeyID: k.ID, Username: "API key " + k.Name, Scope: k.Scope}, nil
}

// permCIM is every operation: a key either opens CIM or does not.
const permCIM = "cim"

// Allows: keys of scope cim, and admin keys (an admin key opens every API that takes Switchboard keys),
// hold permCIM; an events key does not (403).
func (h *Handler) Allows(p *auth.Principal, perm string) bool {
	return perm == permCIM && p.KeyID != 0 && (p.Scope == platform.ScopeCIM || p.Scope == platform.ScopeAdmin)
}

// Permissions is the operationId → permissions table.
func (h *Handler) Permissions() map[string][]string { return permissions }

// permissions lists every operation of openapi/cim.yaml (all are secured); an operation without an entry
// is refused with 500 (fail closed).
var permissions = map[string][]string{
	"getContactByName":         {permCIM},
	"getContactsBySearchTerms": {permCIM},
	"loadMoreContacts":         {permCIM},
	"getContact":               {permCIM},
	"updateContact":            {permCIM},
	"deleteContact":            {permCIM},
	"getContactList":           {permCIM},
	"saveContact":              {permCIM},

	"getSchema":             {permCIM},
	"saveSchema":            {permCIM},
	"updateSchemaAttribute": {permCIM},
	"deleteSchemaAttribute": {permCIM},

	"addMappingCondition":    {permCIM},
	"getMapping":             {permCIM},
	"updateMappingCondition": {permCIM},
	"deleteMappingCondition": {permCIM},

	"loadInteractions":            {permCIM},
	"updateOrSaveInteractionTree": {permCIM},
}
