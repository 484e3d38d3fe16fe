package ictcore_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/gateway"
)

type campaignRow struct {
	CampaignID       int64 `json:"campaign_id"`
	Status           string
	Reason           string
	ContactTotal     int64 `json:"contact_total"`
	ContactDone      int64 `json:"contact_done"`
	ContactPending   int64 `json:"contact_pending"`
	ContactCompleted int64 `json:"contact_completed"`
	ContactFailed    int64 `json:"contact_failed"`
}

func (e *ictEnv) campaign(t *testing.T, id int64) campaignRow {
	t.Helper()
	var c campaignRow
	r := e.call(t, "GET", fmt.Sprintf("/campaigns/%d", id), nil)
	if r.Status != 200 {
		t.Fatalf("campaign %d: %d %s", id, r.Status, r.Body)
	}
	r.JSON(t, &c)
	return c
}

// waitFor polls until ok answers true, with a generous deadline for a loaded machine.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s at the deadline", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCampaignLifecycle: a campaign turns each contact of its group into one transmission and releases
// them at cpm per minute of the dialer's clock (exactly floor(cpm × minutes) + 1 by any moment); stop
// pauses it, start resumes it without sending a contact twice; it completes when every transmission has
// ended; the documented refusals answer 412, 423 and 404.
func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		clock := apitest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
		o := txOptions(gateway.SimConfig{})
		o.Clock, o.DialerMaxWait = clock.Now, 50*time.Millisecond
		e := newEnvWithOptions(t, kind, o)
		program, _ := e.smsProgram(t, "Hello")
		group := e.createGroup(t, "list")
		const contacts = 5
		for i := range contacts {
			c := e.createContact(t, map[string]any{"first_name": fmt.Sprint("c", i), "phone": fmt.Sprintf("+1555010%d", i)})
			if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", c, group), nil); r.Status != 200 {
				t.Fatalf("link: %d %s", r.Status, r.Body)
			}
		}
		id := created(t, e.call(t, "POST", "/campaigns", map[string]any{"program_id": program, "group_id": group, "cpm": 60}), "campaign_id")
		if c := e.campaign(t, id); c.Status != "new" || c.ContactTotal != 0 {
			t.Fatalf("created: %+v", c)
		}
		start := func() {
			t.Helper()
			if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil); r.Status != 200 || string(r.Body) != "true" && string(r.Body) != "true\n" {
				t.Fatalf("start: %d %s", r.Status, r.Body)
			}
		}
		released := func(n int64) {
			t.Helper()
			waitFor(t, fmt.Sprintf("%d released", n), func() bool { return e.campaign(t, id).ContactDone >= n })
			if c := e.campaign(t, id); c.ContactDone != n {
				t.Fatalf("released %d, want exactly %d at this clock", c.ContactDone, n)
			}
		}

		start()
		released(1) // at once: floor(60 × 0) + 1
		if c := e.campaign(t, id); c.Status != "running" || c.ContactTotal != contacts {
			t.Fatalf("running: %+v", c)
		}
		e.expectErrors(t, []errorCase{{"start twice", "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil, 423, "Campaign already running"}})
		clock.Add(2 * time.Second)
		released(3) // floor(60 × 2/60) + 1
		metrics := string(e.Do(t, apitest.Request{Method: "GET", Path: "/metrics"}).Body)
		for _, want := range []string{
			fmt.Sprintf(`switchboard_campaign_transmissions{campaign_id="%d",state="total",status="running"} %d`, id, contacts),
			fmt.Sprintf(`switchboard_campaign_transmissions{campaign_id="%d",state="released",status="running"} 3`, id),
			fmt.Sprintf(`switchboard_campaign_transmissions{campaign_id="%d",state="pending",status="running"} %d`, id, contacts-3),
		} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("/metrics lacks %s", want)
			}
		}

		if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d/stop", id), nil); r.Status != 200 {
			t.Fatalf("stop: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{{"stop twice", "PUT", fmt.Sprintf("/campaigns/%d/stop", id), nil, 423, "Campaign is not running"}})
		clock.Add(time.Minute)
		waitFor(t, "the old tick chain to end", func() bool {
			return e.storeCount(t, "SELECT COUNT(*) FROM river_job WHERE kind = 'ictcore_campaign_tick' AND state NOT IN ('completed', 'discarded', 'cancelled')") == 0
		})
		if c := e.campaign(t, id); c.Status != "paused" || c.ContactDone != 3 {
			t.Fatalf("paused: %+v", c)
		}

		var upd struct {
			Cpm    int
			Status string
		}
		e.call(t, "PUT", fmt.Sprintf("/campaigns/%d", id), map[string]any{"cpm": 120, "status": "active"}).JSON(t, &upd)
		if upd.Cpm != 120 || upd.Status != "paused" {
			t.Fatalf("update: %+v", upd)
		}
		start() // resumes, paced from now at the new cpm
		released(4)
		clock.Add(time.Second)
		released(5)
		// Completed once every transmission has ended, which the settling tick after the last release sees.
		waitFor(t, "the last attempts", func() bool {
			return e.storeCount(t, "SELECT COUNT(*) FROM transmissions WHERE campaign_id = ? AND status = 'completed'", id) == contacts
		})
		clock.Add(2 * time.Second)
		waitFor(t, "completed", func() bool { return e.campaign(t, id).Status == "completed" })

		if n := e.storeCount(t, "SELECT COUNT(*) FROM transmissions WHERE campaign_id = ? AND status = 'completed'", id); n != contacts {
			t.Fatalf("%d completed transmissions, want %d", n, contacts)
		}
		if c := e.campaign(t, id); c.ContactPending != 0 || c.ContactCompleted != contacts || c.ContactFailed != 0 {
			t.Fatalf("progress at the end: %+v", c)
		}
		// Deliveries record progress as rows that ticks fold into the campaign's counters; a read adds
		// those not folded yet (here one a delivery could have left after the last tick).
		if err := e.DB.Exec("INSERT INTO campaign_progress (campaign_id, ended, failed) VALUES (?, 3, 1)", id).Error; err != nil {
			t.Fatal(err)
		}
		if c := e.campaign(t, id); c.ContactCompleted != contacts+2 || c.ContactFailed != 1 {
			t.Fatalf("progress with a row not folded: %+v", c)
		}
		if n := e.storeCount(t, "SELECT COUNT(*) FROM campaign_progress WHERE campaign_id = ? AND ended <> 3", id); n != 0 {
			t.Fatalf("%d progress rows the ticks did not fold", n)
		}
		e.DB.Exec("DELETE FROM campaign_progress WHERE campaign_id = ?", id)
		if n := e.storeCount(t, "SELECT COUNT(DISTINCT contact_id) FROM transmissions WHERE campaign_id = ?", id); n != contacts {
			t.Fatalf("%d contacts sent, want %d", n, contacts)
		}
		if n := e.storeCount(t, "SELECT COUNT(*) FROM spools s JOIN transmissions t ON t.transmission_id = s.transmission_id WHERE t.campaign_id = ?", id); n != contacts {
			t.Fatalf("%d attempts, want one per contact", n)
		}

		empty := e.createGroup(t, "empty")
		bare := created(t, e.call(t, "POST", "/campaigns", map[string]any{"cpm": 10}), "campaign_id")
		emptyGroup := created(t, e.call(t, "POST", "/campaigns", map[string]any{"program_id": program, "group_id": empty}), "campaign_id")
		e.expectErrors(t, []errorCase{
			{"start completed", "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil, 423, "Campaign completed, request denied"},
			{"no program", "PUT", fmt.Sprintf("/campaigns/%d/start", bare), nil, 412, "has no program_id"},
			{"empty group", "PUT", fmt.Sprintf("/campaigns/%d/start", emptyGroup), nil, 412, "has no contacts"},
			{"cpm 0", "POST", "/campaigns", map[string]any{"cpm": 0}, 412, "cpm"},
			{"missing program", "POST", "/campaigns", map[string]any{"program_id": 999999}, 404, "not found"},
			{"missing campaign", "PUT", "/campaigns/999999/start", nil, 404, "not found"},
		})
		if r := e.call(t, "DELETE", fmt.Sprintf("/campaigns/%d", bare), nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
	})
}

// campaignWith creates a group with n contacts, a sendsms program and a campaign of them (cpm), and
// answers the campaign id.
func (e *ictEnv) campaignWith(t *testing.T, n, cpm int) int64 {
	t.Helper()
	program, _ := e.smsProgram(t, "Hello")
	group := e.createGroup(t, "list")
	for i := range n {
		c := e.createContact(t, map[string]any{"first_name": fmt.Sprint("c", i), "phone": fmt.Sprintf("+1555020%d", i)})
		if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", c, group), nil); r.Status != 200 {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
	}
	return created(t, e.call(t, "POST", "/campaigns", map[string]any{"program_id": program, "group_id": group, "cpm": cpm}), "campaign_id")
}

// TestCampaignSchedules: a start schedule with no body starts the campaign at once (review R5), a stop
// schedule waits; DELETE, POST (the guide's method) and GET on /schedule each cancel them all.
func TestCampaignSchedules(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{}))
		id := e.campaignWith(t, 2, 60)
		created(t, e.call(t, "POST", fmt.Sprintf("/campaigns/%d/start/schedule", id), nil), "schedule_id")
		waitFor(t, "the scheduled start", func() bool { return e.campaign(t, id).Status != "new" })
		schedules := func() int64 { return e.storeCount(t, "SELECT COUNT(*) FROM schedules WHERE target = 'campaign'") }
		for _, method := range []string{"DELETE", "POST", "GET"} {
			created(t, e.call(t, "POST", fmt.Sprintf("/campaigns/%d/stop/schedule", id), map[string]any{"delay": 3600}), "schedule_id")
			created(t, e.call(t, "POST", fmt.Sprintf("/campaigns/%d/start/schedule", id), map[string]any{"hour": "9", "minute": "0", "is_recurring": 1}), "schedule_id")
			if n := schedules(); n != 2 {
				t.Fatalf("%d schedules, want 2", n)
			}
			if r := e.call(t, method, fmt.Sprintf("/campaigns/%d/schedule", id), nil); r.Status != 200 || schedules() != 0 {
				t.Fatalf("%s /schedule: %d %s, %d left", method, r.Status, r.Body, schedules())
			}
		}
		e.expectErrors(t, []errorCase{
			{"unknown campaign", "POST", "/campaigns/999999/start/schedule", nil, 404, "not found"},
			{"bad minute", "POST", fmt.Sprintf("/campaigns/%d/stop/schedule", id), map[string]any{"minute": "61"}, 412, "61 is outside 0-59"},
		})
		created(t, e.call(t, "POST", fmt.Sprintf("/campaigns/%d/stop/schedule", id), map[string]any{"delay": 3600}), "schedule_id")
		if r := e.call(t, "DELETE", fmt.Sprintf("/campaigns/%d", id), nil); r.Status != 200 || schedules() != 0 {
			t.Fatalf("delete: %d %s, %d schedules left", r.Status, r.Body, schedules())
		}
	})
}

// TestCampaignOwnership: user B's token against user A's campaign on every campaign route answers 403
// or 404 (never A's data, never a change); B cannot build a campaign from A's program or group.
func TestCampaignOwnership(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		admin := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{}))
		a, b := admin.asUser(t, "campa"), admin.asUser(t, "campb")
		id := a.campaignWith(t, 1, 60)
		ac := a.campaign(t, id)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", fmt.Sprintf("/campaigns/%d", id), nil},
			{"PUT", fmt.Sprintf("/campaigns/%d", id), map[string]any{"cpm": 5}},
			{"DELETE", fmt.Sprintf("/campaigns/%d", id), nil},
			{"PUT", fmt.Sprintf("/campaigns/%d/start", id), nil},
			{"PUT", fmt.Sprintf("/campaigns/%d/stop", id), nil},
			{"POST", fmt.Sprintf("/campaigns/%d/start/schedule", id), nil},
			{"POST", fmt.Sprintf("/campaigns/%d/stop/schedule", id), nil},
			{"DELETE", fmt.Sprintf("/campaigns/%d/schedule", id), nil},
			{"GET", fmt.Sprintf("/campaigns/%d/schedule", id), nil},
		} {
			if r := b.call(t, c.method, c.path, c.body); r.Status != 404 && r.Status != 403 {
				t.Fatalf("user b %s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		var list []campaignRow
		b.call(t, "GET", "/campaigns", nil).JSON(t, &list)
		if len(list) != 0 {
			t.Fatalf("user b lists %d campaigns", len(list))
		}
		if c := a.campaign(t, id); c != ac {
			t.Fatalf("user b changed a's campaign: %+v, was %+v", c, ac)
		}
		var row struct {
			ProgramID int64 `json:"program_id"`
			GroupID   int64 `json:"group_id"`
		}
		a.call(t, "GET", fmt.Sprintf("/campaigns/%d", id), nil).JSON(t, &row)
		for _, body := range []map[string]any{{"program_id": row.ProgramID}, {"group_id": row.GroupID}} {
			if r := b.call(t, "POST", "/campaigns", body); r.Status != 404 && r.Status != 403 {
				t.Fatalf("user b's campaign of a's %v: %d %s", body, r.Status, r.Body)
			}
		}
	})
}

// TestCampaignFailures: transmissions that fail for good (no try left) end the campaign all the same,
// counted as failed in its progress; with a try left each is retried first.
func TestCampaignFailures(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{FailureRate: 1}))
		id := e.campaignWith(t, 3, 6000)
		if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d", id), map[string]any{"try_allowed": 2}); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil); r.Status != 200 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		waitFor(t, "completed", func() bool { return e.campaign(t, id).Status == "completed" })
		if c := e.campaign(t, id); c.ContactTotal != 3 || c.ContactDone != 3 || c.ContactFailed != 3 || c.ContactCompleted != 0 {
			t.Fatalf("progress: %+v", c)
		}
		if n := e.storeCount(t, "SELECT COUNT(*) FROM spools"); n != 6 {
			t.Fatalf("%d attempts, want 2 per contact (try_allowed 2)", n)
		}
	})
}

// TestCampaignCallingHours: with a calling window, a contact is released only while its local time (from
// its number) is in it; the others wait, not failed, and go when their window opens.
func TestCampaignCallingHours(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		// Friday 05:00 UTC: 10:00 in Karachi (open), midnight in New York (closed).
		clock := apitest.NewClock(time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC))
		o := txOptions(gateway.SimConfig{})
		o.Clock, o.DialerMaxWait = clock.Now, 50*time.Millisecond
		e := newEnvWithOptions(t, kind, o)
		program, _ := e.smsProgram(t, "Hello")
		group := e.createGroup(t, "list")
		for _, phone := range []string{"+923001234561", "+923001234562", "+12125550101", "+12125550102"} {
			c := e.createContact(t, map[string]any{"first_name": "c", "phone": phone})
			if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", c, group), nil); r.Status != 200 {
				t.Fatalf("link: %d %s", r.Status, r.Body)
			}
		}
		window := map[string]any{"from": "09:00", "to": "17:00", "weekdays": "1-5"}
		id := created(t, e.call(t, "POST", "/campaigns", map[string]any{"program_id": program, "group_id": group, "cpm": 6000,
			"calling_hours": window}), "campaign_id")
		var got struct {
			CallingHours map[string]string `json:"calling_hours"`
		}
		e.call(t, "GET", fmt.Sprintf("/campaigns/%d", id), nil).JSON(t, &got)
		if got.CallingHours["from"] != "09:00" || got.CallingHours["to"] != "17:00" || got.CallingHours["weekdays"] != "1-5" {
			t.Fatalf("calling hours read back: %v", got.CallingHours)
		}
		if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil); r.Status != 200 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		clock.Add(time.Second) // cpm 6000: 101 may have gone by now, but only Karachi's window is open
		waitFor(t, "Karachi released", func() bool { return e.campaign(t, id).ContactDone >= 2 })
		waitFor(t, "Karachi delivered", func() bool { return e.campaign(t, id).ContactCompleted == 2 })
		if c := e.campaign(t, id); c.ContactDone != 2 || c.ContactPending != 2 || c.Status != "running" {
			t.Fatalf("outside New York's window: %+v", c)
		}
		if n := e.storeCount(t, "SELECT COUNT(*) FROM transmissions WHERE campaign_id = ? AND status = 'pending' AND time_zone = 'America/New_York'", id); n != 2 {
			t.Fatalf("%d New York transmissions waiting, want 2", n)
		}
		clock.Add(9 * time.Hour) // 14:00 UTC: 09:00 in New York
		waitFor(t, "completed", func() bool { return e.campaign(t, id).ContactCompleted == 4 })
		clock.Add(2 * time.Second)
		waitFor(t, "completed", func() bool { return e.campaign(t, id).Status == "completed" })

		e.expectErrors(t, []errorCase{
			{"never opens", "PUT", fmt.Sprintf("/campaigns/%d", id), map[string]any{"calling_hours": map[string]any{"from": "09:00", "to": "09:00"}}, 412, "never opens"},
			{"from alone", "PUT", fmt.Sprintf("/campaigns/%d", id), map[string]any{"calling_hours": map[string]any{"from": "09:00"}}, 412, "calling_hours"},
			{"bad time", "POST", "/campaigns", map[string]any{"calling_hours": map[string]any{"from": "9am", "to": "17:00"}}, 412, "from"},
		})
		got.CallingHours = nil
		e.call(t, "PUT", fmt.Sprintf("/campaigns/%d", id), map[string]any{"calling_hours": map[string]any{}}).JSON(t, &got)
		if got.CallingHours != nil {
			t.Fatalf("{} kept the window: %v", got.CallingHours)
		}
	})
}

// TestTicksDoNotWaitForDeliveryWorkers: a campaign's ticks have a queue of their own, so a campaign
// releases while every delivery worker of the node is busy (here the only one, held in a gateway call
// that answers only when the test lets it); on the deliveries' queue the tick would wait for that worker.
func TestTicksDoNotWaitForDeliveryWorkers(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		entered, release := make(chan struct{}, 16), make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			entered <- struct{}{}
			<-release
			fmt.Fprint(w, "0: Accepted for delivery")
		}))
		defer srv.Close()
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		defer free()
		o := txOptions(gateway.SimConfig{})
		o.Queue.Workers = 1
		e := newEnvWithOptions(t, kind, o)
		created(t, e.call(t, "POST", "/providers", map[string]any{"name": "kannel", "type": "http",
			"settings": providerSettings(t, map[string]any{"url": srv.URL + "/send?to={to}&text={text}", "success": "Accepted"})}), "provider_id")
		program, _ := e.smsProgram(t, "Hello")
		e.txSend(t, e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100"}))
		select {
		case <-entered: // the only delivery worker is in the gateway's call now
		case <-time.After(30 * time.Second):
			t.Fatal("the send never reached the gateway")
		}

		const contacts = 3
		id := e.campaignWith(t, contacts, 1000000)
		if r := e.call(t, "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil); r.Status != 200 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		deadline := time.Now().Add(20 * time.Second)
		for e.campaign(t, id).ContactDone < contacts {
			if time.Now().After(deadline) {
				t.Fatalf("the campaign released %d of %d while the delivery worker was busy", e.campaign(t, id).ContactDone, contacts)
			}
			time.Sleep(20 * time.Millisecond)
		}
		free()
		waitFor(t, "completed", func() bool { return e.campaign(t, id).Status == "completed" })
		if c := e.campaign(t, id); c.ContactCompleted != contacts {
			t.Fatalf("completed: %+v", c)
		}
	})
}
