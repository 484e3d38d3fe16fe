package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/auth"
	"switchboard/demo"
	"switchboard/models/accolades"
)

// TestSeedAccolades: the demo's account opens with its password, its agents authenticate with the CRM ids
// the README uses, and a second run adds nothing.
func TestSeedAccolades(t *testing.T) {
	t.Parallel()
	db := apitest.NewDB(t, "sqlite")
	ctx := context.Background()
	var out bytes.Buffer
	if err := demo.SeedAccolades(ctx, db, &out); err != nil || strings.Count(out.String(), "Accolades agent") != 2 {
		t.Fatalf("seed: %v %q", err, out.String())
	}
	a, err := accolades.FindAccount(ctx, db, demo.AccoladesAccount)
	if err != nil || auth.CheckPassword(a.PasswordHash, demo.AccoladesPassword) != nil {
		t.Fatalf("account: %+v %v", a, err)
	}
	for _, crm := range []string{demo.AccoladesCrmAna, demo.AccoladesCrmBob} {
		if s, err := accolades.FindByCrmID(ctx, db, crm); err != nil || s.Account.ID != a.ID {
			t.Fatalf("agent %s: %v", crm, err)
		}
	}
	out.Reset()
	if err := demo.SeedAccolades(ctx, db, &out); err != nil || out.Len() != 0 {
		t.Fatalf("seed again: %v %q", err, out.String())
	}
}
