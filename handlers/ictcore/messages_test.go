package ictcore_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
)

// asUser answers an env whose calls carry the token of a new user with ICTCore's "user" role.
func (e *ictEnv) asUser(t *testing.T, name string) *ictEnv {
	t.Helper()
	if err := app.AddUser(context.Background(), e.DB, name, "pw-"+name, []string{"user"}); err != nil {
		t.Fatal(err)
	}
	r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/ictcore/authenticate",
		Body:   apitest.JSONBody(t, map[string]string{"username": name, "password": "pw-" + name}),
		Header: apitest.Headers("Content-Type", "application/json")})
	if r.Status != http.StatusOK {
		t.Fatalf("authenticate %s: %d %s", name, r.Status, r.Body)
	}
	var tok struct{ Token string }
	r.JSON(t, &tok)
	return &ictEnv{Env: e.Env, token: tok.Token}
}

// created reads the id field of a create answer.
func created(t *testing.T, r *apitest.Response, field string) int64 {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var out map[string]int64
	r.JSON(t, &out)
	if out[field] <= 0 {
		t.Fatalf("create answered %s without %s", r.Body, field)
	}
	return out[field]
}

// messageKind is one message kind's routes and a valid body for it.
type messageKind struct {
	path, id string
	create   map[string]any
	update   map[string]any // changes name to "renamed"
}

var messageKinds = []messageKind{
	{"/messages/texts", "text_id", map[string]any{"name": "t", "data": "Hello"}, map[string]any{"name": "renamed", "text_id": 99, "length": 7}},
	{"/messages/templates", "template_id", map[string]any{"name": "t", "subject": "S", "body": "<p>b</p>"}, map[string]any{"name": "renamed", "template_id": 99}},
	{"/messages/documents", "document_id", map[string]any{"name": "t", "quality": "fine", "file_name": "x.pdf"}, map[string]any{"name": "renamed", "pages": 9}},
	{"/messages/recordings", "recording_id", map[string]any{"name": "t", "file_name": "x.wav"}, map[string]any{"name": "renamed", "codec": "x"}},
}

// TestMessageCRUD: each kind is created, read, listed (filtered, counted, paged with a Link), updated (read-only
// fields sent back are ignored) and deleted, on both stores.
func TestMessageCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for _, k := range messageKinds {
			t.Run(strings.TrimPrefix(k.path, "/messages/"), func(t *testing.T) {
				id := created(t, e.call(t, "POST", k.path, k.create), k.id)
				created(t, e.call(t, "POST", k.path, k.create), k.id)
				item := fmt.Sprintf("%s/%d", k.path, id)
				var got map[string]any
				e.call(t, "GET", item, nil).JSON(t, &got)
				if got["name"] != "t" || got[k.id] != float64(id) {
					t.Fatalf("read back %v", got)
				}
				r := e.call(t, "GET", k.path+"?limit=1&count=true", nil)
				var list []map[string]any
				r.JSON(t, &list)
				if r.Status != 200 || len(list) != 1 || r.Header.Get("X-Total-Count") != "2" ||
					!strings.Contains(r.Header.Get("Link"), "offset=1") {
					t.Fatalf("first page: %d %s %v", r.Status, r.Body, r.Header)
				}
				r = e.call(t, "PUT", item, k.update)
				r.JSON(t, &got)
				if r.Status != 200 || got["name"] != "renamed" || got[k.id] != float64(id) {
					t.Fatalf("update: %d %s", r.Status, r.Body)
				}
				r = e.call(t, "GET", k.path+"?name=RENAM", nil)
				r.JSON(t, &list)
				if len(list) != 1 || list[0][k.id] != float64(id) {
					t.Fatalf("list by name: %s", r.Body)
				}
				if r := e.call(t, "DELETE", item, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "true" {
					t.Fatalf("delete: %d %s", r.Status, r.Body)
				}
				e.expectErrors(t, []errorCase{
					{"read deleted", "GET", item, nil, 404, "not found"},
					{"update deleted", "PUT", item, map[string]any{"name": "x"}, 404, "not found"},
					{"delete deleted", "DELETE", item, nil, 404, "not found"},
					{"missing name", "POST", k.path, map[string]any{"description": "x"}, 412, "name"},
					{"empty name", "PUT", fmt.Sprintf("%s/%d", k.path, id+1), map[string]any{"name": ""}, 412, "name"},
				})
			})
		}
	})
}

// TestTextCharset: the guide's type names (unicode, plain, binary) and the reference code's character set
// names are both accepted, answers carry the type as the client spelled it (R25), and an explicit
// encoding wins (ambiguity 61).
func TestTextCharset(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for _, tc := range []struct {
			body     map[string]any
			wantType string
			wantEnc  float64
		}{
			{map[string]any{}, "UTF-8", 2},
			{map[string]any{"type": "unicode"}, "unicode", 2}, // answered as sent (R25)
			{map[string]any{"type": "plain"}, "plain", 0},
			{map[string]any{"type": "binary"}, "binary", 1},
			{map[string]any{"type": "ASCII"}, "ASCII", 0},
			{map[string]any{"type": "ISO-8859-7", "encoding": 0}, "ISO-8859-7", 0},
		} {
			body := map[string]any{"name": "n", "data": "Grüße"}
			for k, v := range tc.body {
				body[k] = v
			}
			id := created(t, e.call(t, "POST", "/messages/texts", body), "text_id")
			var got struct {
				Type     string
				Encoding float64
				Length   int
			}
			e.call(t, "GET", fmt.Sprintf("/messages/texts/%d", id), nil).JSON(t, &got)
			if got.Type != tc.wantType || got.Encoding != tc.wantEnc || got.Length != len("Grüße") {
				t.Errorf("%v: got %+v, want %s/%v", tc.body, got, tc.wantType, tc.wantEnc)
			}
		}
		e.expectErrors(t, []errorCase{
			{"unknown type", "POST", "/messages/texts", map[string]any{"name": "n", "data": "d", "type": "EBCDIC"}, 412, "type"},
			{"missing data", "POST", "/messages/texts", map[string]any{"name": "n"}, 412, "data"},
			{"bad class", "POST", "/messages/texts", map[string]any{"name": "n", "data": "d", "class": 3}, 412, "class"},
		})
	})
}

// TestMessageOwnership: a user who is not an admin reads, lists, changes and deletes only its own
// messages; another's answer 404 (never data), and the admin sees all.
func TestMessageOwnership(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		admin := newEnv(t, kind)
		a, b := admin.asUser(t, "usera"), admin.asUser(t, "userb")
		for _, k := range messageKinds {
			t.Run(strings.TrimPrefix(k.path, "/messages/"), func(t *testing.T) {
				mine := created(t, a.call(t, "POST", k.path, k.create), k.id)
				item := fmt.Sprintf("%s/%d", k.path, mine)
				for _, c := range []struct{ method, path string }{{"GET", item}, {"PUT", item}, {"DELETE", item}} {
					var body any
					if c.method == "PUT" {
						body = map[string]any{"name": "stolen"}
					}
					if r := b.call(t, c.method, c.path, body); r.Status != 404 {
						t.Fatalf("user b %s %s: %d %s", c.method, c.path, r.Status, r.Body)
					}
				}
				var list []map[string]any
				b.call(t, "GET", k.path, nil).JSON(t, &list)
				if len(list) != 0 {
					t.Fatalf("user b lists another's: %v", list)
				}
				a.call(t, "GET", k.path, nil).JSON(t, &list)
				if len(list) != 1 {
					t.Fatalf("user a lists %d, want its 1", len(list))
				}
				var got map[string]any
				admin.call(t, "GET", item, nil).JSON(t, &got)
				if got["name"] != "t" {
					t.Fatalf("admin reads %v", got)
				}
				if r := a.call(t, "DELETE", item, nil); r.Status != 200 {
					t.Fatalf("owner delete: %d %s", r.Status, r.Body)
				}
			})
		}
	})
}
