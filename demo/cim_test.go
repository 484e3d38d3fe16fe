package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/demo"
	"switchboard/models"
	"switchboard/models/cim"
	"switchboard/models/events"
)

// TestSeedCIM: the demo's schema, contacts and mapping are there, a call with the mapped variable finds its
// contact, and a second run adds nothing.
func TestSeedCIM(t *testing.T) {
	t.Parallel()
	db := apitest.NewDB(t, "sqlite")
	ctx := context.Background()
	var out bytes.Buffer
	if err := demo.SeedCIM(ctx, db, &out); err != nil || strings.Count(out.String(), "CIM contact") != 3 ||
		strings.Count(out.String(), "CIM attribute") != 4 || strings.Count(out.String(), "CIM mapping") != 1 {
		t.Fatalf("seed: %v %q", err, out.String())
	}
	sara, err := cim.ContactOf(ctx, db, "03217654321")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok, err := cim.FindCallContact(ctx, db, events.CallEvent{Phone: "0300 1234567",
		Variables: map[string]string{demo.CIMMappingVariable: "C-1002"}}); err != nil || !ok || id != sara {
		t.Fatalf("the mapping finds %d %v %v, want Sara %d", id, ok, err, sara)
	}
	out.Reset()
	if err := demo.SeedCIM(ctx, db, &out); err != nil || out.Len() != 0 {
		t.Fatalf("seed again: %v %q", err, out.String())
	}
	page, err := cim.ListContacts(ctx, db, models.ListQuery{Count: true})
	if err != nil || *page.Total != 3 {
		t.Fatalf("contacts after two runs: %v %v", page.Total, err)
	}
}
