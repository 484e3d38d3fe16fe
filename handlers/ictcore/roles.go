package ictcore

import (
	"slices"
	"strings"

	"switchboard/auth"
)

// ICTCore's role model (notes/ictcore.md section 10): "admin" holds every permission; "user" holds the
// names below, where a parent name grants each of its children ("contact" grants "contact_create"), as
// ICTCore's User::authorize checks them. Users, providers, roles and permissions are admin-only. Any user
// may also hold names an admin granted it directly (PUT /users/{id}/permissions/{permission_id}), loaded
// into its principal at authentication (authn.go) and checked the same way.
var userPermissions = []string{
	"api", "statistic_read", "configuration_read", "user_read", "user_password", "account_read",
	"account_update", "account_list", "contact", "document", "recording", "template", "text", "program",
	"transmission", "task", "schedule", "spool", "result", "group", "campaign",
}

func isAdmin(p *auth.Principal) bool { return p != nil && slices.Contains(p.Roles, "admin") }

// Allows tells whether the principal holds perm (e.g. "contact_create"), through its roles or granted
// directly (PUT /users/{id}/permissions/{permission_id}), itself or through a parent name.
func (h *Handler) Allows(p *auth.Principal, perm string) bool {
	if p == nil {
		return false
	}
	if isAdmin(p) {
		return true
	}
	if slices.Contains(p.Roles, "user") && grants(userPermissions, perm) {
		return true
	}
	return grants(p.Permissions, perm)
}

// grants tells whether one of the held names is perm or a parent of it ("contact" grants "contact_create").
func grants(held []string, perm string) bool {
	for _, name := range held {
		if name == perm || strings.HasPrefix(perm, name+"_") {
			return true
		}
	}
	return false
}
