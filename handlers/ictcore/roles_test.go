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
	} {
		if got := h.Allows(tc.p, tc.perm); got != tc.want {
			t.Errorf("Allows(%v, %q) = %v", tc.p, tc.perm, got)
		}
	}
}
