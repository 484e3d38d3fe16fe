package ictcore

import (
	"testing"

	"switchboard/auth"
)

func TestRoleModel(t *testing.T) {
	t.Parallel()
	h := &Handler{}
	admin := &auth.Principal{Roles: []string{"admin"}}
	user := &auth.Principal{Roles: []string{"user"}}
	none := &auth.Principal{}
	granted := &auth.Principal{Roles: []string{"user"}, Permissions: []string{"user_list", "provider"}}
	grantedOnly := &auth.Principal{Permissions: []string{"contact_read"}}
	for _, tc := range []struct {
		p    *auth.Principal
		perm string
		want bool
	}{
		{admin, "provider_delete", true},
		{user, "contact_create", true}, // via parent "contact"
		{user, "group_read", true},
		{user, "provider_delete", false},
		{user, "user_create", false},
		{user, "contacts", false}, // a prefix must end at "_"
		{none, "contact_read", false},
		{nil, "contact_read", false},
		{granted, "user_list", true},       // granted directly
		{granted, "provider_delete", true}, // via the granted parent "provider"
		{granted, "user_create", false},
		{granted, "contact_create", true}, // still its role's
		{grantedOnly, "contact_read", true},
		{grantedOnly, "contact_list", false},
		{grantedOnly, "contact_readx", false},
	} {
		if got := h.Allows(tc.p, tc.perm); got != tc.want {
			t.Errorf("Allows(%v, %q) = %v", tc.p, tc.perm, got)
		}
	}
}
