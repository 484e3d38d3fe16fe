package collect_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/auth"
	"switchboard/models/collect"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		demo := e.addDatabase(t, "cv_demodb")
		own := e.addOperator(t, demo, "OWN", "Owner Of The Company", "own", true)
		e.addOperator(t, demo, "OLD", "Gone", "old", false)

		out := e.login(t, "cv_demodb", "OWN", "own")
		op := out.Result.NxOperator
		if op.OpRowid != strconv.FormatInt(own.ID, 10) || op.OpID != "OWN" || op.OpName != "Owner Of The Company" ||
			op.OpLevel != 10 || op.OpFunction != 1 || out.Result.AccessToken == out.Result.RefreshToken {
			t.Fatalf("reply: %+v", out)
		}
		// The access token opens the data operations of its database (an unknown form answers 404).
		if s := e.probe(t, "cv_demodb", out.Result.AccessToken); s != authed {
			t.Fatalf("access token: %d, want 404", s)
		}
		// Only a hash of each token is stored.
		var leaks int64
		e.DB.Raw("SELECT count(*) FROM collect_sessions WHERE access_hash IN (?, ?) OR refresh_hash IN (?, ?)",
			out.Result.AccessToken, out.Result.RefreshToken, out.Result.AccessToken, out.Result.RefreshToken).Scan(&leaks)
		if leaks != 0 {
			t.Fatal("a token itself is stored")
		}

		for _, tc := range []struct {
			name, database, body string
			status               int
			msg                  string
		}{
			{"wrong password", "cv_demodb", `{"op_id":"OWN","op_password":"nope"}`, 401, "not authorized"},
			{"unknown database", "cv_nodb", `{"op_id":"OWN","op_password":"own"}`, 401, "not authorized"},
			{"unknown operator", "cv_demodb", `{"op_id":"NOBODY","op_password":"own"}`, 401, "not authorized"},
			{"inactive operator", "cv_demodb", `{"op_id":"OLD","op_password":"old"}`, 401, "not authorized"},
			{"operator id in another case", "cv_demodb", `{"op_id":"own","op_password":"own"}`, 401, "not authorized"},
			{"missing header: cv_masterdb, which does not exist", "", `{"op_id":"OWN","op_password":"own"}`, 401, "not authorized"},
			{"bad database name", "demodb", `{"op_id":"OWN","op_password":"own"}`, 400, "x-collect-database"},
			{"missing password", "cv_demodb", `{"op_id":"OWN"}`, 400, "op_password"},
			{"malformed body", "cv_demodb", `{"op_id":`, 400, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expectError(t, e.post(t, "/api/v1/auth/login", tc.database, "", tc.body), tc.status, tc.msg)
			})
		}

		// Without the header a login goes to cv_masterdb, once it exists, and so do its token's requests.
		master := e.addDatabase(t, "cv_masterdb")
		e.addOperator(t, master, "OWN", "Master owner", "master", true)
		m := e.login(t, "", "OWN", "master")
		if m.Result.NxOperator.OpName != "Master owner" {
			t.Fatalf("login without header: %+v", m)
		}
		for _, tc := range []struct {
			database string
			want     int
		}{{"", authed}, {"cv_masterdb", authed}, {"cv_demodb", 401}} {
			if s := e.probe(t, tc.database, m.Result.AccessToken); s != tc.want {
				t.Errorf("cv_masterdb token with header %q: %d, want %d", tc.database, s, tc.want)
			}
		}
	})
}

// TestDatabaseIsolation: a token is bound to the database it was made for, and an operator's credentials
// to its own database.
func TestDatabaseIsolation(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		a, b := e.addDatabase(t, "cv_a"), e.addDatabase(t, "cv_b")
		e.addOperator(t, a, "OWN", "A", "pw-a", true)
		e.addOperator(t, b, "OWN", "B", "pw-b", true)
		ta, tb := e.login(t, "cv_a", "OWN", "pw-a"), e.login(t, "cv_b", "OWN", "pw-b")
		for _, tc := range []struct {
			database, token string
			want            int
		}{
			{"cv_a", ta.Result.AccessToken, authed},
			{"cv_b", ta.Result.AccessToken, 401},
			{"", ta.Result.AccessToken, 401}, // the header missing names cv_masterdb
			{"cv_nodb", ta.Result.AccessToken, 401},
			{"cv_b", tb.Result.AccessToken, authed},
			{"cv_a", tb.Result.AccessToken, 401},
		} {
			if s := e.probe(t, tc.database, tc.token); s != tc.want {
				t.Errorf("token on %q: %d, want %d", tc.database, s, tc.want)
			}
		}
		expectError(t, e.post(t, "/api/v1/auth/login", "cv_b", "", `{"op_id":"OWN","op_password":"pw-a"}`), 401, "not authorized")
		expectError(t, e.refresh(t, "cv_b", ta.Result.RefreshToken), 401, "not issued for database cv_b")
		expectError(t, e.post(t, "/api/v1/auth/logout", "cv_b", ta.Result.AccessToken, ""), 401, "not issued for database cv_b")
		if s := e.probe(t, "cv_a", ta.Result.AccessToken); s != authed {
			t.Fatalf("a refused refresh or logout on cv_b ended cv_a's session: %d", s)
		}
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		d := e.addDatabase(t, "cv_demodb")
		e.addOperator(t, d, "OWN", "Owner", "own", true)
		first := e.login(t, "cv_demodb", "OWN", "own")

		r := e.refresh(t, "cv_demodb", first.Result.RefreshToken)
		var second loginReply
		r.JSON(t, &second)
		if r.Status != 200 || second.Status != 200 || second.Result.NxOperator.OpID != "OWN" ||
			second.Result.AccessToken == first.Result.AccessToken || second.Result.RefreshToken == first.Result.RefreshToken {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		// Rotation: the old access token stops working, the new ones work (the old refresh token: below).
		if s := e.probe(t, "cv_demodb", first.Result.AccessToken); s != 401 {
			t.Fatalf("old access token after refresh: %d", s)
		}
		if s := e.probe(t, "cv_demodb", second.Result.AccessToken); s != authed {
			t.Fatalf("new access token: %d", s)
		}
		// Each token only where it belongs: the refresh token is no Bearer token, the access token no
		// refresh token.
		if s := e.probe(t, "cv_demodb", second.Result.RefreshToken); s != 401 {
			t.Fatalf("refresh token as Bearer: %d", s)
		}
		// R16: the answer says which token to send.
		expectError(t, e.post(t, "/api/v1/auth/logout", "cv_demodb", second.Result.RefreshToken, ""), 401, "send the access_token")
		expectError(t, e.refresh(t, "cv_demodb", second.Result.AccessToken), 401, "refresh token")
		expectError(t, e.refresh(t, "cv_demodb", "crt_"+strings.Repeat("A", 43)), 401, "refresh token")
		expectError(t, e.post(t, "/api/v1/auth/refresh", "cv_demodb", "", `{}`), 400, "refresh_token")
		r = e.refresh(t, "cv_demodb", second.Result.RefreshToken)
		var third loginReply
		r.JSON(t, &third)
		if r.Status != 200 {
			t.Fatalf("the refused attempts spoiled the session: %d %s", r.Status, r.Body)
		}
		// A refresh token already traded, presented again, is replayed or stolen: the session ends, its
		// current tokens with it. Older ones are merely unknown.
		expectError(t, e.refresh(t, "cv_demodb", first.Result.RefreshToken), 401, "invalid, expired or revoked")
		if s := e.probe(t, "cv_demodb", third.Result.AccessToken); s != authed {
			t.Fatalf("an older token ended the session: %d", s)
		}
		expectError(t, e.refresh(t, "cv_demodb", second.Result.RefreshToken), 401, "already used")
		if s := e.probe(t, "cv_demodb", third.Result.AccessToken); s != 401 {
			t.Fatalf("access token of a session whose refresh token was replayed: %d", s)
		}
		expectError(t, e.refresh(t, "cv_demodb", third.Result.RefreshToken), 401, "refresh token")
	})
}

// TestExpiry: an access token lives an hour, a refresh token a day, measured by the injected clock.
func TestExpiry(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		d := e.addDatabase(t, "cv_demodb")
		e.addOperator(t, d, "OWN", "Owner", "own", true)
		tok := e.login(t, "cv_demodb", "OWN", "own")
		e.clock.Add(59 * time.Minute)
		if s := e.probe(t, "cv_demodb", tok.Result.AccessToken); s != authed {
			t.Fatalf("access token at 59 minutes: %d", s)
		}
		e.clock.Add(2 * time.Minute)
		if s := e.probe(t, "cv_demodb", tok.Result.AccessToken); s != 401 {
			t.Fatalf("access token at 61 minutes: %d", s)
		}
		r := e.refresh(t, "cv_demodb", tok.Result.RefreshToken)
		var fresh loginReply
		r.JSON(t, &fresh)
		if r.Status != 200 || e.probe(t, "cv_demodb", fresh.Result.AccessToken) != authed {
			t.Fatalf("refresh after the access token expired: %d %s", r.Status, r.Body)
		}
		e.clock.Add(24*time.Hour + time.Minute)
		expectError(t, e.refresh(t, "cv_demodb", fresh.Result.RefreshToken), 401, "expired")
		// A login sweeps the operator's expired sessions.
		e.login(t, "cv_demodb", "OWN", "own")
		var n int64
		e.DB.Raw("SELECT count(*) FROM collect_sessions").Scan(&n)
		if n != 1 {
			t.Fatalf("%d sessions after a login swept the expired one, want 1", n)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		d := e.addDatabase(t, "cv_demodb")
		e.addOperator(t, d, "OWN", "Owner", "own", true)
		tok := e.login(t, "cv_demodb", "OWN", "own")
		other := e.login(t, "cv_demodb", "OWN", "own") // a second session of the same operator

		expectError(t, e.post(t, "/api/v1/auth/logout", "cv_demodb", "", ""), 401, "missing access token")
		r := e.post(t, "/api/v1/auth/logout", "cv_demodb", tok.Result.AccessToken, "")
		if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"status":200}` {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if s := e.probe(t, "cv_demodb", tok.Result.AccessToken); s != 401 {
			t.Fatalf("access token after logout: %d", s)
		}
		expectError(t, e.refresh(t, "cv_demodb", tok.Result.RefreshToken), 401, "refresh token")
		expectError(t, e.post(t, "/api/v1/auth/logout", "cv_demodb", tok.Result.AccessToken, ""), 401, "not authorized")
		// Only that session ended.
		if s := e.probe(t, "cv_demodb", other.Result.AccessToken); s != authed {
			t.Fatalf("the other session after logout: %d", s)
		}
	})
}

// TestSecuredBeforeNotBuilt: the data operations are not built, but they check the token first.
func TestSecuredBeforeNotBuilt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	for _, tc := range []struct {
		name, auth string
	}{{"none", ""}, {"garbage", "Bearer nonsense"}, {"basic", "Basic T1dOOm93bg=="}, {"ICTCore-shaped", "Bearer a.b.c"}} {
		h := apitest.Headers("x-collect-database", "cv_demodb")
		if tc.auth != "" {
			h.Set("Authorization", tc.auth)
		}
		r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/data/debtor/1", Header: h})
		expectError(t, r, 401, "not authorized")
	}
}

// TestLoginThrottle: failed logins are throttled per database and op_id (429 with Retry-After), through
// the server's one login guard.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, app.Options{Logins: auth.GuardConfig{MaxFailures: 2, Window: time.Hour}})
		d := e.addDatabase(t, "cv_demodb")
		e.addOperator(t, d, "OWN", "Owner", "own", true)
		bad := `{"op_id":"OWN","op_password":"nope"}`
		for range 2 {
			expectError(t, e.post(t, "/api/v1/auth/login", "cv_demodb", "", bad), 401, "not authorized")
		}
		r := e.post(t, "/api/v1/auth/login", "cv_demodb", "", `{"op_id":"OWN","op_password":"own"}`)
		expectError(t, r, 429, "too many failed logins")
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	})
}

// TestRevocationCrossesNodes: two nodes on one Postgres store, each keeping its session lookups. Node B
// keeps one (it still accepts the token after the session's row was deleted behind its back, which is no
// revocation); a logout on node A, and a new password set on A, are refused on B within moments: B hears
// A's revocations on its LISTEN connection.
func TestRevocationCrossesNodes(t *testing.T) {
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	t.Parallel()
	nodes := apitest.NewNodes(t, 2, app.Options{})
	a, b := &env{Env: nodes[0]}, &env{Env: nodes[1]}
	d := a.addDatabase(t, "cv_nodes")
	op := a.addOperator(t, d, "OWN", "Owner", "own", true)
	refusedOnB := func(what, tok string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for b.probe(t, "cv_nodes", tok) != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatalf("%s on node A: node B still accepts the token after 5 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	tok := a.login(t, "cv_nodes", "OWN", "own").Result.AccessToken
	if s := b.probe(t, "cv_nodes", tok); s != authed {
		t.Fatalf("node B: %d", s)
	}
	if err := a.DB.Exec("DELETE FROM collect_sessions").Error; err != nil {
		t.Fatal(err)
	}
	if s := b.probe(t, "cv_nodes", tok); s != authed {
		t.Fatalf("node B read the store again (%d): it keeps no lookups, and this test proves nothing", s)
	}

	tok = a.login(t, "cv_nodes", "OWN", "own").Result.AccessToken
	if s := b.probe(t, "cv_nodes", tok); s != authed {
		t.Fatalf("node B: %d", s)
	}
	if r := a.post(t, "/api/v1/auth/logout", "cv_nodes", tok, ""); r.Status != 200 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	refusedOnB("logout", tok)

	tok = a.login(t, "cv_nodes", "OWN", "own").Result.AccessToken
	if s := b.probe(t, "cv_nodes", tok); s != authed {
		t.Fatalf("node B: %d", s)
	}
	pw := "new password"
	if _, err := collect.UpdateOperator(context.Background(), a.DB, d.Scope(), op.ID, collect.OperatorFields{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	refusedOnB("a new password", tok)
}
