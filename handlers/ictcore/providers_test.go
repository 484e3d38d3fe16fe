package ictcore_test

import (
	"fmt"
	"strings"
	"testing"

	"switchboard/apitest"
)

// TestProviders: CRUD, the service_flag default by type and its mask filter, a password stored but never
// answered, settings checked by building the provider's gateway, and providers kept from non-admins.
func TestProviders(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		sip := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "trunk", "type": "sip", "host": "192.0.2.10",
			"username": "u", "password": "s3cret-pw", "gateway_flag": 1, "provider_id": 99}), "provider_id")
		kannel := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "kannel", "type": "http", "host": "127.0.0.1",
			"port": 13013, "settings": `{"url":"/cgi-bin/sendsms?to={to}&text={text}"}`}), "provider_id")
		created(t, e.call(t, "POST", "/providers", map[string]any{"name": "mail", "type": "smtp", "host": "mail.example.com",
			"settings": `{"tls":"starttls","from":"noreply@example.com"}`}), "provider_id")

		var got map[string]any
		r := e.call(t, "GET", fmt.Sprintf("/providers/%d", sip), nil)
		r.JSON(t, &got)
		if got["name"] != "trunk" || got["service_flag"] != float64(3) || got["provider_id"] != float64(sip) ||
			strings.Contains(string(r.Body), "s3cret") || got["password"] != nil {
			t.Fatalf("read back: %s", r.Body)
		}
		var list []map[string]any
		r = e.call(t, "GET", "/providers?service_flag=4&count=true", nil)
		r.JSON(t, &list)
		if len(list) != 1 || list[0]["provider_id"] != float64(kannel) || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("SMS providers: %s", r.Body)
		}
		r = e.call(t, "PUT", fmt.Sprintf("/providers/%d", sip), map[string]any{"name": "trunk 2", "active": 0})
		r.JSON(t, &got)
		if r.Status != 200 || got["name"] != "trunk 2" || got["active"] != float64(0) || got["host"] != "192.0.2.10" {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/providers/%d", sip), nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{
			{"read deleted", "GET", fmt.Sprintf("/providers/%d", sip), nil, 404, "not found"},
			{"http without url", "POST", "/providers", map[string]any{"name": "x", "type": "http", "host": "h"}, 412, "url"},
			{"settings not JSON", "POST", "/providers", map[string]any{"name": "x", "type": "smtp", "host": "h", "settings": "tls=yes"}, 412, "settings"},
			{"update breaks settings", "PUT", fmt.Sprintf("/providers/%d", kannel), map[string]any{"settings": `{"url":""}`}, 412, "url"},
			{"unknown type", "POST", "/providers", map[string]any{"name": "x", "type": "pigeon"}, 412, "type"},
		})
		var after map[string]any
		e.call(t, "GET", fmt.Sprintf("/providers/%d", kannel), nil).JSON(t, &after)
		if !strings.Contains(fmt.Sprint(after["settings"]), "sendsms") {
			t.Fatalf("a refused update changed the provider: %v", after)
		}
		user := e.asUser(t, "plain")
		if r := user.call(t, "GET", "/providers", nil); r.Status != 403 {
			t.Fatalf("a non-admin lists providers: %d %s", r.Status, r.Body)
		}
	})
}
