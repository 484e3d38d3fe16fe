package ictcore

import (
	"slices"
	"strings"

	"switchboard/auth"
)

// ICTCore's role model (notes/ictcore.md section 10): "admin" holds every permission; "user" holds the
// names below, where a parent name grants each of its children ("contact" grants "contact_create"), as
// ICTCore's User::authorize checks them. Users, providers, roles and permissions are admin-only.
var userPermissions = []string{
	"api", "statistic_read", "configuration_read", "user_read", "user_password", "account_read",
	"account_update", "account_list", "contact", "document", "recording", "template", "text", "program",
	"transmission", "task", "schedule", "spool", "result", "group", "campaign",
}

func isAdmin(p *auth.Principal) bool { return p != nil && slices.Contains(p.Roles, "admin") }

// Allows tells whether the principal holds perm (e.g. "contact_create"), directly or through a parent name.
func (h *Handler) Allows(p *auth.Principal, perm string) bool {
	if p == nil {
		return false
	}
	if isAdmin(p) {
		return true
	}
	if !slices.Contains(p.Roles, "user") {
		return false
	}
	for _, held := range userPermissions {
		if held == perm || strings.HasPrefix(perm, held+"_") {
			return true
		}
	}
	return false
}
