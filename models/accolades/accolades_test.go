package accolades_test

import (
	"context"
	"os"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/accolades"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// TestAllows: allow-lists match addresses and prefixes, IPv4 arriving as IPv4-mapped IPv6 included; no list
// allows any address; an address that cannot be read is refused.
func TestAllows(t *testing.T) {
	t.Parallel()
	a := &accolades.Agent{AllowedIPs: "192.0.2.1,10.0.0.0/8,2001:db8::/32"}
	for addr, want := range map[string]bool{
		"192.0.2.1:5555":        true,
		"[::ffff:192.0.2.1]:80": true,
		"10.200.3.4:1":          true,
		"[2001:db8::7]:443":     true,
		"192.0.2.2:5555":        false,
		"[2001:db9::1]:443":     false,
		"127.0.0.1:1":           false,
		"garbage":               false,
		"192.0.2.1":             true,
	} {
		if got := a.Allows(addr); got != want {
			t.Errorf("Allows(%q) = %v, want %v", addr, got, want)
		}
	}
	if !(&accolades.Agent{}).Allows("198.51.100.1:1") {
		t.Error("no allow-list refused an address")
	}
}

// TestCallID: the document's number.number passes as it is; anything else maps to number.number, the same
// every time.
func TestCallID(t *testing.T) {
	t.Parallel()
	if got := accolades.CallID("1608743891.1344"); got != "1608743891.1344" {
		t.Fatalf("CallID kept nothing: %q", got)
	}
	for _, kept := range []string{"1.1", "12345678901234567890.12345678901"} {
		if got := accolades.CallID(kept); got != kept {
			t.Errorf("CallID(%q) = %q, want it kept", kept, got)
		}
	}
	for _, mapped := range []string{"", ".", "1.", ".1", "1608743891", "1608743891.1344.5", "123456789012345678901.1",
		"1.123456789012", "16087x3891.1344", "-1.1", " 1.1"} {
		if got := accolades.CallID(mapped); got == mapped {
			t.Errorf("CallID(%q) kept it: not the document's number.number", mapped)
		}
	}
	guid := "8f2d3c1e-5b6a-4c7d-9e8f-0a1b2c3d4e5f"
	a, b := accolades.CallID(guid), accolades.CallID(guid)
	if a != b || a == guid || accolades.CallID(guid+"x") == a {
		t.Fatalf("CallID(%q) = %q, %q", guid, a, b)
	}
}

// TestLeases: one holder per CRM id; another node takes it only once it expired; a node may take its own
// back; Renew answers what the node holds; Release gives up only the caller's connection's lease.
func TestLeases(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		a, b := accolades.NewLeases(db, "node-a", time.Second), accolades.NewLeases(db, "node-b", time.Second)
		now := time.Now()
		must := func(ok bool, err error, want bool, what string) {
			t.Helper()
			if err != nil || ok != want {
				t.Fatalf("%s: %v %v, want %v", what, ok, err, want)
			}
		}
		ok, err := a.Acquire(ctx, "crm1", "t1", now)
		must(ok, err, true, "a takes crm1")
		ok, err = b.Acquire(ctx, "crm1", "t2", now)
		must(ok, err, false, "b while a holds it")
		ok, err = a.Acquire(ctx, "crm1", "t3", now)
		must(ok, err, true, "a takes its own back")
		held, err := a.Renew(ctx, now)
		if err != nil || len(held) != 1 || held["crm1"] != "t3" {
			t.Fatalf("renew: %v %v", held, err)
		}
		if err := a.Release(ctx, "crm1", "t1"); err != nil { // an old connection's release changes nothing
			t.Fatal(err)
		}
		if node, _ := accolades.Holder(ctx, db, "crm1"); node != "node-a" {
			t.Fatalf("holder %q", node)
		}
		ok, err = b.Acquire(ctx, "crm1", "t4", now.Add(1500*time.Millisecond))
		must(ok, err, true, "b after the lease expired")
		if held, _ := a.Renew(ctx, now); len(held) != 0 {
			t.Fatalf("a still holds %v", held)
		}
		if err := b.ReleaseAll(ctx); err != nil {
			t.Fatal(err)
		}
		if node, _ := accolades.Holder(ctx, db, "crm1"); node != "" {
			t.Fatalf("released, yet held by %q", node)
		}
	})
}

// TestAgentConflicts: a device id or a CRM id another agent has is a Conflict.
func TestAgentConflicts(t *testing.T) {
	t.Parallel()
	db := apitest.NewDB(t, "sqlite")
	ctx := context.Background()
	acct, err := accolades.CreateAccount(ctx, db, accolades.AccountInput{AccountNumber: "1", Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accolades.CreateAgent(ctx, db, acct.ID, accolades.AgentInput{Name: "A", DeviceID: "1", CrmID: "f8cb549544"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []accolades.AgentInput{{Name: "B", DeviceID: "1"}, {Name: "B", DeviceID: "2", CrmID: "f8cb549544"}} {
		if _, err := accolades.CreateAgent(ctx, db, acct.ID, in); models.KindOf(err) != models.Conflict {
			t.Fatalf("%+v: %v, want a conflict", in, err)
		}
	}
}
