package cim_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	"switchboard/apitest"
	"switchboard/models/platform"
)

// TestAuth: a Switchboard key of scope cim or admin opens CIM as a bearer token or as X-API-Key; no key,
// a wrong or revoked one, and other APIs' credentials answer 401; an events key answers 403 (ambiguity 19).
func TestAuth(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		admin := e.newKey(t, "ops", platform.ScopeAdmin)
		events := e.newKey(t, "crm events", platform.ScopeEvents)
		revokedRow, revoked, err := platform.CreateAPIKey(context.Background(), e.DB, "old", platform.ScopeCIM)
		if err != nil {
			t.Fatal(err)
		}
		if err := platform.RevokeAPIKey(context.Background(), e.DB, revokedRow.ID); err != nil {
			t.Fatal(err)
		}
		ictcoreToken := ictcoreToken(t, e)
		wrong := []byte(e.key) // the CIM key with its last character changed
		wrong[len(wrong)-1] ^= 1

		for _, tc := range []struct {
			name   string
			header http.Header
			status int
			msg    string
		}{
			{"cim key as X-API-Key", apitest.Headers("X-API-Key", e.key), 200, ""},
			{"cim key as bearer", apitest.Headers("Authorization", "Bearer "+e.key), 200, ""},
			{"admin key", apitest.Headers("Authorization", "Bearer "+admin), 200, ""},
			{"X-API-Key wins over a bad bearer", apitest.Headers("X-API-Key", e.key, "Authorization", "Bearer nope"), 200, ""},
			{"no credentials", http.Header{}, 401, "API key is required"},
			{"empty bearer", apitest.Headers("Authorization", "Bearer "), 401, "API key is required"},
			{"wrong key", apitest.Headers("X-API-Key", string(wrong)), 401, "not a Switchboard API key"},
			{"revoked key", apitest.Headers("X-API-Key", revoked), 401, "not a Switchboard API key"},
			{"ICTCore token", apitest.Headers("Authorization", "Bearer "+ictcoreToken), 401, "not a Switchboard API key"},
			{"key as Basic (uContact's way)", apitest.Headers("Authorization", "Basic "+e.key), 401, "API key is required"},
			{"admin password as Basic", apitest.Headers("Authorization", "Basic "+
				base64.StdEncoding.EncodeToString([]byte("admin:"+apitest.AdminPassword))), 401, "API key is required"},
			{"events key", apitest.Headers("X-API-Key", events), 403, "not permitted"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, op := range []struct{ method, path string }{{"GET", "/getContactList"}, {"GET", "/getSchema"}, {"GET", "/mapping"}} {
					r := e.callWith(t, tc.header, op.method, op.path, nil)
					if tc.status == 200 {
						if r.Status != 200 {
							t.Fatalf("%s: %d %s", op.path, r.Status, r.Body)
						}
						continue
					}
					expectError(t, r, tc.status, tc.msg)
				}
			})
		}
		// The CIM key opens no other API.
		r := e.Do(t, apitest.Request{Method: "GET", Path: "/platform/api-keys", Header: apitest.Headers("X-API-Key", e.key)})
		if r.Status != http.StatusForbidden {
			t.Fatalf("a CIM key on the platform API: %d %s", r.Status, r.Body)
		}
		r = e.Do(t, apitest.Request{Method: "GET", Path: "/ictcore/contacts", Header: apitest.Headers("Authorization", "Bearer "+e.key)})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("a CIM key on ICTCore: %d %s", r.Status, r.Body)
		}
	})
}

// ictcoreToken signs in to ICTCore as the admin and answers the token.
func ictcoreToken(t *testing.T, e *env) string {
	t.Helper()
	r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/ictcore/authenticate",
		Body:   apitest.JSONBody(t, map[string]string{"username": "admin", "password": apitest.AdminPassword}),
		Header: apitest.Headers("Content-Type", "application/json")})
	var tok struct{ Token string }
	r.JSON(t, &tok)
	if r.Status != http.StatusOK || tok.Token == "" {
		t.Fatalf("authenticate: %d %s", r.Status, r.Body)
	}
	return tok.Token
}
