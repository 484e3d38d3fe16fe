package ictcore_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/gateway"
)

// platform calls the platform API with the ICTCore admin token (which it accepts beside an API key).
func (e *ictEnv) platform(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	h := apitest.Headers("Authorization", "Bearer "+e.token)
	var req apitest.Request
	if body != nil {
		req.Body = apitest.JSONBody(t, body)
		h.Set("Content-Type", "application/json")
	}
	req.Method, req.Path, req.Header = method, "/platform"+path, h
	return e.Do(t, req)
}

// dncList makes a do-not-call list holding numbers and answers its id.
func (e *ictEnv) dncList(t *testing.T, name string, global bool, numbers ...string) int64 {
	t.Helper()
	var l struct{ ID int64 }
	r := e.platform(t, "POST", "/dnc-lists", map[string]any{"name": name, "global": global})
	if r.Status != http.StatusCreated {
		t.Fatalf("create list: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &l)
	if r := e.platform(t, "POST", fmt.Sprintf("/dnc-lists/%d/numbers", l.ID), map[string]any{"numbers": numbers}); r.Status != 200 {
		t.Fatalf("add numbers: %d %s", r.Status, r.Body)
	}
	return l.ID
}

// TestDoNotCall: a number on a list attached to a campaign, or on a global list, is never dialled: its
// transmission fails at once with the list named, is not retried, and the campaign counts it failed and
// completes; a list attached to one campaign does not bar a single send, a global list does.
func TestDoNotCall(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		clock := apitest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
		o := txOptions(gateway.SimConfig{})
		o.Clock, o.DialerMaxWait, o.PhoneRegion = clock.Now, 50*time.Millisecond, "US"
		e := newEnvWithOptions(t, kind, o)
		program, _ := e.smsProgram(t, "Hello")
		group := e.createGroup(t, "list")
		phones := []string{"+12125550101", "+12125550102", "+12125550103"}
		contacts := map[string]int64{}
		for _, phone := range phones {
			c := e.createContact(t, map[string]any{"first_name": "c", "phone": phone})
			contacts[phone] = c
			if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", c, group), nil); r.Status != 200 {
				t.Fatalf("link: %d %s", r.Status, r.Body)
			}
		}
		id := created(t, e.call(t, "POST", "/campaigns", map[string]any{"program_id": program, "group_id": group, "cpm": 6000, "try_allowed": 3}), "campaign_id")
		// Listed in national form: compared in E.164, read in the region (US).
		attached := e.dncList(t, "campaign list", false, "(212) 555-0101")
		if r := e.platform(t, "PUT", fmt.Sprintf("/dnc-lists/%d/campaigns/%d", attached, id), nil); r.Status != http.StatusNoContent {
			t.Fatalf("attach: %d %s", r.Status, r.Body)
		}
		e.dncList(t, "national registry", true, "+12125550102")

		if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil); r.Status != 200 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		clock.Add(time.Second)
		waitFor(t, "every contact ended", func() bool { c := e.campaign(t, id); return c.ContactCompleted+c.ContactFailed == 3 })
		clock.Add(2 * time.Second)
		waitFor(t, "completed", func() bool { return e.campaign(t, id).Status == "completed" })
		if c := e.campaign(t, id); c.ContactCompleted != 1 || c.ContactFailed != 2 {
			t.Fatalf("campaign: %+v, want 1 completed and 2 failed", c)
		}
		for phone, list := range map[string]string{"+12125550101": "campaign list", "+12125550102": "national registry"} {
			var tid int64
			if err := e.DB.Raw("SELECT transmission_id FROM transmissions WHERE campaign_id = ? AND contact_id = ?", id, contacts[phone]).Scan(&tid).Error; err != nil || tid == 0 {
				t.Fatalf("transmission of %s: %d %v", phone, tid, err)
			}
			tx := e.txGet(t, tid)
			if tx.Status != "failed" || tx.TryDone != 1 || !strings.Contains(tx.Response, "do not call") || !strings.Contains(tx.Response, list) {
				t.Errorf("%s: %+v, want failed once with the list %q named", phone, tx, list)
			}
			if sp := e.txSpools(t, tid); len(sp) != 1 || sp[0].Status != "failed" || sp[0].Response != "do not call" {
				t.Errorf("%s: spools %+v", phone, sp)
			}
		}

		// Single sends: the campaign's list does not apply, the global one does.
		free := e.txCreate(t, map[string]any{"program_id": program, "phone": "+12125550101"})
		e.txSend(t, free)
		if s := e.txWait(t, free); s != "completed" {
			t.Errorf("a number on a campaign's list, sent alone: %s, want completed", s)
		}
		barred := e.txCreate(t, map[string]any{"program_id": program, "phone": "2125550102"})
		e.txSend(t, barred)
		if s := e.txWait(t, barred); s != "failed" || !strings.Contains(e.txGet(t, barred).Response, "national registry") {
			t.Errorf("a number on a global list, sent alone: %s %+v", s, e.txGet(t, barred))
		}
	})
}
