package auth

import (
	"context"
	"strings"
)

// Principal is who made a request, after authentication.
type Principal struct {
	UserID   int64
	Username string
	Roles    []string
}

// userPermissions are what ICTCore's "user" role holds (notes/ictcore.md section 10). A parent name
// grants each of its children: "contact" grants "contact_create".
var userPermissions = []string{
	"api", "statistic_read", "configuration_read", "user_read", "user_password", "account_read",
	"account_update", "account_list", "contact", "document", "recording", "template", "text", "program",
	"transmission", "task", "schedule", "spool", "result", "group", "campaign",
}

// IsAdmin tells whether the principal holds the admin role, which grants every permission.
func (p *Principal) IsAdmin() bool {
	for _, r := range p.Roles {
		if r == "admin" {
			return true
		}
	}
	return false
}

// Can tells whether the principal holds permission perm (e.g. "contact_create"), directly or through a
// parent name, as ICTCore's User::authorize checks it.
func (p *Principal) Can(perm string) bool {
	if p == nil {
		return false
	}
	if p.IsAdmin() {
		return true
	}
	for _, r := range p.Roles {
		if r != "user" {
			continue
		}
		for _, held := range userPermissions {
			if held == perm || strings.HasPrefix(perm, held+"_") {
				return true
			}
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom answers the principal stored in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
