package platform_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models/identity"
	"switchboard/models/platform"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		ctx := context.Background()
		for _, u := range []struct {
			name  string
			roles []string
		}{{"agent", []string{"user"}}, {"boss", []string{"admin"}}, {"gone", []string{"admin"}}} {
			if err := app.AddUser(ctx, e.DB, u.name, "pw-"+u.name, u.roles); err != nil {
				t.Fatal(err)
			}
		}
		adminToken := e.ictcoreToken(t, "admin", apitest.AdminPassword)
		bossToken := e.ictcoreToken(t, "boss", "pw-boss")
		agentToken := e.ictcoreToken(t, "agent", "pw-agent")
		goneToken := e.ictcoreToken(t, "gone", "pw-gone")
		if err := e.DB.Model(&identity.User{}).Where("username = ?", "gone").Update("active", false).Error; err != nil {
			t.Fatal(err)
		}
		eventsKey := e.newKey(t, "crm events", platform.ScopeEvents)
		wellFormedUnknown := "sb_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		cases := []struct {
			name       string
			header     http.Header
			wantStatus int
		}{
			{"no credentials", nil, 401},
			{"admin key", apitest.Headers("X-API-Key", e.key), 200},
			{"garbage key", apitest.Headers("X-API-Key", "nope"), 401},
			{"unknown key", apitest.Headers("X-API-Key", wellFormedUnknown), 401},
			{"key as bearer is not a token", apitest.Headers("Authorization", "Bearer "+e.key), 401},
			{"events key on an admin operation", apitest.Headers("X-API-Key", eventsKey), 403},
			{"ICTCore admin token", apitest.Headers("Authorization", "Bearer "+adminToken), 200},
			{"ICTCore admin token, scheme in lower case", apitest.Headers("Authorization", "bearer "+bossToken), 200},
			{"ICTCore non-admin token", apitest.Headers("Authorization", "Bearer "+agentToken), 403},
			{"ICTCore token of an inactive user", apitest.Headers("Authorization", "Bearer "+goneToken), 401},
			{"bad token", apitest.Headers("Authorization", "Bearer x.y.z"), 401},
			{"basic auth is not taken", apitest.Headers("Authorization", "Basic YWRtaW46YWRtaW4tc2VjcmV0"), 401},
			{"a bad key wins over a good token", apitest.Headers("X-API-Key", "nope", "Authorization", "Bearer "+adminToken), 401},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.callWith(t, tc.header, "GET", "/dnc-lists", nil)
				if tc.wantStatus == 200 {
					if r.Status != 200 {
						t.Fatalf("got %d %s, want 200", r.Status, r.Body)
					}
					return
				}
				detail := "credentials"
				if tc.wantStatus == 403 {
					detail = "not permitted"
				}
				expectProblem(t, r, tc.wantStatus, detail)
				if tc.wantStatus == 401 && r.Header.Get("WWW-Authenticate") != `Bearer realm="Switchboard platform"` {
					t.Fatalf("401 without its challenge: %v", r.Header)
				}
			})
		}

		// An events key gets past authentication and the permission table on POST /call-events; an admin
		// key may call it too.
		event := map[string]any{"direction": "inbound", "phone": "0211234567", "unique_id": "1.1", "state": "ringing"}
		for _, key := range []string{eventsKey, e.key} {
			if r := e.callWith(t, apitest.Headers("X-API-Key", key), "POST", "/call-events", event); r.Status != http.StatusAccepted {
				t.Fatalf("POST /call-events: %d %s", r.Status, r.Body)
			}
		}
		expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", wellFormedUnknown), "POST", "/call-events", event), 401, "credentials")
	})
}

// TestRevokedKeyAnswers401AtOnce: no cache keeps a revoked key alive, not even one used a moment before.
func TestRevokedKeyAnswers401AtOnce(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		victim := e.newKey(t, "victim", platform.ScopeAdmin)
		h := apitest.Headers("X-API-Key", victim)
		if r := e.callWith(t, h, "GET", "/api-keys", nil); r.Status != 200 {
			t.Fatalf("before revoke: %d %s", r.Status, r.Body)
		}
		var keys []apiKey
		e.call(t, "GET", "/api-keys", nil).JSON(t, &keys)
		id := keyID(t, keys, "victim")
		if r := e.call(t, "DELETE", "/api-keys/"+itoa(id), nil); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.callWith(t, h, "GET", "/api-keys", nil), 401, "credentials")
		// A key may revoke itself; its next request is refused.
		if r := e.callWith(t, apitest.Headers("X-API-Key", e.key), "DELETE", "/api-keys/"+itoa(keyID(t, keys, "test admin")), nil); r.Status != 204 {
			t.Fatalf("self revoke: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "GET", "/api-keys", nil), 401, "credentials")
	})
}

// TestLastUsedAtWrittenOncePerMinute: a request refreshes last_used_at only when it is a minute old.
func TestLastUsedAtWrittenOncePerMinute(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		lastUsed := func() *int64 {
			var k platform.APIKey
			if err := e.DB.Where("name = ?", "test admin").Take(&k).Error; err != nil {
				t.Fatal(err)
			}
			return k.LastUsedAt
		}
		set := func(v int64) {
			if err := e.DB.Model(&platform.APIKey{}).Where("name = ?", "test admin").Update("last_used_at", v).Error; err != nil {
				t.Fatal(err)
			}
		}
		if lastUsed() != nil {
			t.Fatal("a new key has a last_used_at")
		}
		start := time.Now().Unix()
		e.call(t, "GET", "/dnc-lists", nil)
		if lu := lastUsed(); lu == nil || *lu < start || *lu > time.Now().Unix() {
			t.Fatalf("first use not recorded: %v", lu)
		}
		recent := time.Now().Unix() - 30
		set(recent)
		e.call(t, "GET", "/dnc-lists", nil)
		if lu := lastUsed(); *lu != recent {
			t.Fatalf("rewritten within a minute: %d, want %d", *lu, recent)
		}
		set(time.Now().Unix() - 120)
		e.call(t, "GET", "/dnc-lists", nil)
		if lu := lastUsed(); *lu < start {
			t.Fatalf("not refreshed after a minute: %d", *lu)
		}
	})
}
