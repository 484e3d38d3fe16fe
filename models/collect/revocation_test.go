package collect_test

import (
	"context"
	"testing"

	"switchboard/apitest"
	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/collect"
)

// TestKeptLookups: a node keeps its session lookups (a session deleted behind its back is still accepted:
// the store is not read again), and every revocation drops them, so the token it revokes is refused at
// once; on Postgres a node that does not hear the other nodes' revocations reads the store every time.
func TestKeptLookups(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		d, err := collect.CreateDatabase(ctx, db, "cv_kept")
		if err != nil {
			t.Fatal(err)
		}
		s := d.Scope()
		newOp := func(opID string) *collect.Operator {
			o, err := collect.CreateOperator(ctx, db, s, collect.OperatorFields{OpID: ptr(opID), OpName: ptr("Op " + opID), Password: ptr("pw")})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		sessions := collect.NewSessions(db, auth.NewGuard(auth.GuardConfig{}), nil)
		ear := collect.NewRevocations(db)
		sessions.KeepLookups(ear)
		ear.Listening(true) // the relay's part on Postgres; the embedded store keeps lookups regardless
		login := func(opID string) collect.Tokens {
			t.Helper()
			_, toks, err := sessions.Login(ctx, "cv_kept", opID, "pw", "")
			if err != nil {
				t.Fatal(err)
			}
			return toks
		}
		caller := func(tok string) *collect.Caller {
			t.Helper()
			c, err := sessions.Authenticate(ctx, "cv_kept", tok)
			if err != nil && models.KindOf(err) != models.Unauthenticated {
				t.Fatal(err)
			}
			return c
		}
		accepted := func(what, tok string, want bool) {
			t.Helper()
			if got := caller(tok) != nil; got != want {
				t.Fatalf("%s: accepted %v, want %v", what, got, want)
			}
		}
		dropBehind := func() {
			t.Helper()
			if err := db.Exec("DELETE FROM collect_sessions").Error; err != nil {
				t.Fatal(err)
			}
		}

		newOp("OWN")
		toks := login("OWN")
		accepted("fresh session", toks.Access, true)
		dropBehind()
		accepted("session deleted behind the node's back (kept)", toks.Access, true)

		toks = login("OWN")
		accepted("before logout", toks.Access, true)
		if err := sessions.Logout(ctx, caller(toks.Access)); err != nil {
			t.Fatal(err)
		}
		accepted("after logout", toks.Access, false)

		toks = login("OWN")
		accepted("before refresh", toks.Access, true)
		_, fresh, err := sessions.Refresh(ctx, "cv_kept", toks.Refresh)
		if err != nil {
			t.Fatal(err)
		}
		accepted("the access token a refresh replaced", toks.Access, false)
		accepted("the refreshed access token", fresh.Access, true)
		if _, _, err := sessions.Refresh(ctx, "cv_kept", toks.Refresh); models.KindOf(err) != models.Unauthenticated {
			t.Fatalf("replayed refresh token: %v", err)
		}
		accepted("the session's access token after its old refresh token was replayed", fresh.Access, false)

		op := newOp("SAL")
		for _, c := range []struct {
			what string
			f    collect.OperatorFields
		}{{"new password", collect.OperatorFields{Password: ptr("pw")}}, {"deactivated", collect.OperatorFields{Active: ptr(false)}}} {
			toks = login("SAL")
			accepted("before "+c.what, toks.Access, true)
			if _, err := collect.UpdateOperator(ctx, db, s, op.ID, c.f); err != nil {
				t.Fatal(err)
			}
			accepted("after "+c.what, toks.Access, false)
		}
		if _, err := collect.UpdateOperator(ctx, db, s, op.ID, collect.OperatorFields{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		toks = login("SAL")
		accepted("before renaming", toks.Access, true)
		if _, err := collect.UpdateOperator(ctx, db, s, op.ID, collect.OperatorFields{OpName: ptr("Sal renamed")}); err != nil {
			t.Fatal(err)
		}
		if c := caller(toks.Access); c == nil || c.Operator.OpName != "Sal renamed" {
			t.Fatalf("after renaming: %+v, want the new name", c)
		}
		if err := collect.DeleteOperator(ctx, db, s, op.ID); err != nil {
			t.Fatal(err)
		}
		accepted("after the operator's deletion", toks.Access, false)

		if kind == "postgres" {
			ear.Listening(false) // the relay lost its LISTEN connection
			toks = login("OWN")
			accepted("deaf node", toks.Access, true)
			dropBehind()
			accepted("deaf node, session deleted behind its back (read again)", toks.Access, false)
		}
	})
}
