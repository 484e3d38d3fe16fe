package platform_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/auth"
)

type apiKey struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Scope      string  `json:"scope"`
	Prefix     string  `json:"prefix"`
	Key        string  `json:"key"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func keyID(t *testing.T, keys []apiKey, name string) int64 {
	t.Helper()
	for _, k := range keys {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("no key %q in %+v", name, keys)
	return 0
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.call(t, "POST", "/api-keys", map[string]any{"name": "crm", "scope": "events"})
		var created apiKey
		r.JSON(t, &created)
		if r.Status != http.StatusCreated || created.Name != "crm" || created.Scope != "events" || created.ID != 2 ||
			!auth.LooksLikeAPIKey(created.Key) || !strings.HasPrefix(created.Key, created.Prefix) || len(created.Prefix) != 9 ||
			created.LastUsedAt != nil || created.RevokedAt != nil || created.CreatedAt == "" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		// Only the hash is stored.
		var stored int64
		e.DB.Raw("SELECT count(*) FROM api_keys WHERE hash = ? AND prefix = ?", auth.HashAPIKey(created.Key), created.Prefix).Scan(&stored)
		if stored != 1 {
			t.Fatal("the key's hash is not what was stored")
		}
		var leaks int64
		e.DB.Raw("SELECT count(*) FROM api_keys WHERE hash = ? OR name = ? OR prefix = ?", created.Key, created.Key, created.Key).Scan(&leaks)
		if leaks != 0 {
			t.Fatal("the key itself is stored")
		}
		// The new key works, within its scope.
		expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", created.Key), "GET", "/api-keys", nil), 403, "not permitted")

		r = e.call(t, "GET", "/api-keys", nil)
		var keys []apiKey
		r.JSON(t, &keys)
		if len(keys) != 2 || keys[0].Name != "test admin" || keys[1].ID != created.ID || keys[1].Key != "" || strings.Contains(string(r.Body), created.Key) {
			t.Fatalf("list: %s", r.Body)
		}
		if keys[0].LastUsedAt == nil || keys[1].LastUsedAt == nil {
			t.Fatalf("last_used_at missing on keys that were used: %s", r.Body)
		}

		// A name in force is taken; once its key is revoked it may be given again.
		expectProblem(t, e.call(t, "POST", "/api-keys", map[string]any{"name": "crm", "scope": "admin"}), 409, `"crm" exists already`)
		if r := e.call(t, "DELETE", "/api-keys/"+itoa(created.ID), nil); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		var again apiKey
		e.call(t, "GET", "/api-keys?after=1", nil).JSON(t, &keys)
		if len(keys) != 1 || keys[0].RevokedAt == nil {
			t.Fatalf("revoked key not listed as revoked: %+v", keys)
		}
		firstRevoke := *keys[0].RevokedAt
		if r := e.call(t, "DELETE", "/api-keys/"+itoa(created.ID), nil); r.Status != 204 {
			t.Fatalf("revoke again: %d %s", r.Status, r.Body)
		}
		e.call(t, "GET", "/api-keys?after=1", nil).JSON(t, &keys)
		if *keys[0].RevokedAt != firstRevoke {
			t.Fatalf("revoking again moved revoked_at: %s → %s", firstRevoke, *keys[0].RevokedAt)
		}
		r = e.call(t, "POST", "/api-keys", map[string]any{"name": "crm", "scope": "admin"})
		r.JSON(t, &again)
		if r.Status != 201 || again.Key == created.Key || again.Scope != "admin" {
			t.Fatalf("name of a revoked key: %d %s", r.Status, r.Body)
		}

		e.expectErrors(t, []errorCase{
			{"missing scope", "POST", "/api-keys", map[string]any{"name": "x"}, 400, "scope"},
			{"unknown scope", "POST", "/api-keys", map[string]any{"name": "x", "scope": "root"}, 400, "scope"},
			{"empty name", "POST", "/api-keys", map[string]any{"name": "", "scope": "admin"}, 400, "name"},
			{"long name", "POST", "/api-keys", map[string]any{"name": strings.Repeat("n", 65), "scope": "admin"}, 400, "name"},
			{"unknown field", "POST", "/api-keys", map[string]any{"name": "x", "scope": "admin", "key": "sb_mine"}, 400, "key"},
			{"malformed JSON", "POST", "/api-keys", `{"name":`, 400, ""},
			{"revoke unknown", "DELETE", "/api-keys/999", nil, 404, "API key 999 not found"},
			{"revoke id zero", "DELETE", "/api-keys/0", nil, 400, "key_id"},
			{"revoke id not a number", "DELETE", "/api-keys/abc", nil, 400, "key_id"},
			{"limit too large", "GET", "/api-keys?limit=1001", nil, 400, "limit"},
			{"after not a number", "GET", "/api-keys?after=x", nil, 400, "after"},
		})
	})
}

func TestAPIKeyPages(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for i := range 4 {
			e.newKey(t, fmt.Sprintf("k%d", i), "events")
		}
		cases := []struct {
			query    string
			wantIDs  string
			wantLink string
		}{
			{"?limit=2", "[1 2]", `</platform/api-keys?after=2&limit=2>; rel="next"`},
			{"?limit=2&after=2", "[3 4]", `</platform/api-keys?after=4&limit=2>; rel="next"`},
			{"?limit=2&after=4", "[5]", ""},
			{"", "[1 2 3 4 5]", ""},
		}
		for _, tc := range cases {
			r := e.call(t, "GET", "/api-keys"+tc.query, nil)
			var keys []apiKey
			r.JSON(t, &keys)
			var ids []int64
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			if fmt.Sprint(ids) != tc.wantIDs || r.Header.Get("Link") != tc.wantLink {
				t.Errorf("%s: ids %v link %q, want %s %q", tc.query, ids, r.Header.Get("Link"), tc.wantIDs, tc.wantLink)
			}
		}
	})
}
