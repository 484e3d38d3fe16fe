package ictcore_test

import (
	"fmt"
	"testing"

	"switchboard/apitest"
	"switchboard/gateway"
)

// stats reads GET /statistics with an optional query.
func (e *ictEnv) stats(t *testing.T, query string) map[string]int {
	t.Helper()
	r := e.call(t, "GET", "/statistics"+query, nil)
	if r.Status != 200 {
		t.Fatalf("statistics: %d %s", r.Status, r.Body)
	}
	var s map[string]int
	r.JSON(t, &s)
	return s
}

// TestStatistics: the counters move as data changes (contacts, groups, transmissions, spools, a failed
// attempt), honour since and service_flag, and a user who is not an admin counts only its own.
func TestStatistics(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{}))
		before := e.stats(t, "")
		if before["user_total"] != 1 || before["contact_total"] != 0 || before["transmission_total"] != 0 {
			t.Fatalf("fresh store: %v", before)
		}
		e.createContact(t, map[string]any{"first_name": "A", "phone": "1"})
		e.createGroup(t, "g")
		program, _ := e.smsProgram(t, "Hi")
		sent := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100"})
		e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550101"})
		e.txSend(t, sent)
		if s := e.txWait(t, sent); s != "completed" {
			t.Fatalf("send: %s", s)
		}
		after := e.stats(t, "")
		for k, want := range map[string]int{"contact_total": 1 + 2, "group_total": 1, "transmission_total": 2,
			"transmission_outbound": 2, "transmission_inbound": 0, "transmission_active": 0, "spool_total": 1,
			"spool_success": 1, "spool_failed": 0} {
			if after[k] != want {
				t.Errorf("%s = %d, want %d (all: %v)", k, after[k], want, after)
			}
		}
		if s := e.stats(t, "?service_flag=8"); s["transmission_total"] != 0 || s["spool_total"] != 0 {
			t.Fatalf("e-mail only: %v", s)
		}
		if s := e.stats(t, fmt.Sprintf("?since=%d", 4102444800)); s["contact_total"] != 0 || s["transmission_total"] != 0 {
			t.Fatalf("since 2100: %v", s)
		}
		user := e.asUser(t, "statsuser")
		if s := user.stats(t, ""); s["contact_total"] != 0 || s["transmission_total"] != 0 || s["user_total"] != 1 {
			t.Fatalf("a user's own counters: %v", s)
		}
	})
}
