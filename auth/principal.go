package auth

import "context"

// Principal is who made a request, after authentication: a user, or an API key. What its roles allow is
// each API's own model (handlers/<api>), enforced through the API's permission table.
type Principal struct {
	UserID   int64
	Username string
	Roles    []string
	// Permissions are the names granted to the user directly, on top of its roles (an API's role model
	// decides what a name allows).
	Permissions []string
	// KeyID is the API key the request came with (0: a user signed in), and Scope that key's scope; an
	// API's role model decides what a scope allows.
	KeyID int64
	Scope string
	// DatabaseID is the Collect! database a Collect! token was issued for, and SessionID the login session
	// it belongs to (both 0 elsewhere): every Collect! query of the request is scoped by the database.
	DatabaseID int64
	SessionID  int64
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
