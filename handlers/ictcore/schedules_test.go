package ictcore_test

import (
	"fmt"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/gateway"
)

// TestScheduleTransmission: a schedule with no body, or `{}`, sends at once (review R5); a later one waits
// until it is cancelled (DELETE, or GET as the guide allows) or its transmission is deleted; the documented
// errors leave no schedule.
func TestScheduleTransmission(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{}))
		program, _ := e.smsProgram(t, "Hello")
		schedules := func() int64 { return e.storeCount(t, "SELECT COUNT(*) FROM schedules") }

		for _, body := range []any{nil, map[string]any{}} {
			id := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100"})
			path := fmt.Sprintf("/transmissions/%d/schedule", id)
			if sid := created(t, e.call(t, "PUT", path, body), "schedule_id"); sid == 0 {
				t.Fatal("no schedule id")
			}
			if s := e.txWait(t, id); s != "completed" {
				t.Fatalf("scheduled at once with body %v: %s", body, s)
			}
			deadline := time.Now().Add(30 * time.Second)
			for schedules() != 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond) // the firing commits the send and the spent schedule together
			}
			if n := schedules(); n != 0 {
				t.Fatalf("%d schedules left after a one-shot fired", n)
			}
			// Nothing is left to send now.
			e.expectErrors(t, []errorCase{{"completed", "PUT", path, nil, 409, "nothing left to send"}})
		}

		later := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550101"})
		path := fmt.Sprintf("/transmissions/%d/schedule", later)
		created(t, e.call(t, "PUT", path, map[string]any{"delay": 3600}), "schedule_id")
		created(t, e.call(t, "PUT", path, map[string]any{"weekday": "1-5", "hour": "9", "minute": "0", "is_recurring": 1}), "schedule_id")
		if n := e.storeCount(t, "SELECT COUNT(*) FROM schedules WHERE target_id = ? AND next_run > ?", later, time.Now().Unix()+60); n != 2 {
			t.Fatalf("%d future schedules, want 2", n)
		}
		for _, method := range []string{"DELETE", "GET"} {
			r := e.call(t, method, path, nil)
			if r.Status != 200 || string(r.Body) != "true\n" && string(r.Body) != "true" {
				t.Fatalf("%s schedule: %d %s", method, r.Status, r.Body)
			}
			if n := schedules(); n != 0 {
				t.Fatalf("%s left %d schedules", method, n)
			}
		}
		if s := e.txStatus(t, later); s != "pending" {
			t.Fatalf("a cancelled schedule sent it: %s", s)
		}
		created(t, e.call(t, "PUT", path, map[string]any{"timestamp": time.Now().Unix() + 3600}), "schedule_id")
		if r := e.call(t, "DELETE", fmt.Sprintf("/transmissions/%d", later), nil); r.Status != 200 || schedules() != 0 {
			t.Fatalf("delete the transmission: %d %s, %d schedules left", r.Status, r.Body, schedules())
		}

		pending := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550102"})
		path = fmt.Sprintf("/transmissions/%d/schedule", pending)
		e.expectErrors(t, []errorCase{
			{"two one-shots", "PUT", path, map[string]any{"delay": 60, "timestamp": 2000000000}, 412, "one of delay, timestamp and datetime"},
			{"one-shot and cron", "PUT", path, map[string]any{"delay": 60, "hour": "9"}, 412, "do not mix"},
			{"recurring alone", "PUT", path, map[string]any{"is_recurring": 1}, 412, "needs at least one of"},
			{"out of range", "PUT", path, map[string]any{"minute": "61"}, 412, "61 is outside 0-59"},
			{"never", "PUT", path, map[string]any{"year": "2020"}, 412, "never fires"},
			{"free-form date", "PUT", path, map[string]any{"datetime": "next monday"}, 412, "datetime"},
			{"unknown field", "PUT", path, map[string]any{"when": "now"}, 412, "when"},
			{"unknown transmission", "PUT", "/transmissions/999999/schedule", nil, 404, "Transmission 999999 not found"},
			{"cancel unknown", "DELETE", "/transmissions/999999/schedule", nil, 404, "Transmission 999999 not found"},
		})
		if n := schedules(); n != 0 {
			t.Fatalf("refused schedules left %d rows", n)
		}
	})
}

// TestScheduleTimeZone: cron-like fields are read in the server's schedule zone: 09:00 in Karachi is the
// next 04:00 UTC.
func TestScheduleTimeZone(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Karachi")
	if err != nil {
		t.Skip("no time zone data")
	}
	o := txOptions(gateway.SimConfig{})
	o.ScheduleZone = loc
	e := newEnvWithOptions(t, "sqlite", o)
	program, _ := e.smsProgram(t, "Hello")
	id := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100"})
	created(t, e.call(t, "PUT", fmt.Sprintf("/transmissions/%d/schedule", id), map[string]any{"hour": "9", "minute": "0"}), "schedule_id")
	next := time.Unix(e.storeCount(t, "SELECT next_run FROM schedules"), 0).UTC()
	if next.Hour() != 4 || next.Minute() != 0 || time.Until(next) > 24*time.Hour || time.Until(next) <= 0 {
		t.Fatalf("next run %s, want the next 04:00 UTC", next)
	}
	if n := e.storeCount(t, "SELECT COUNT(*) FROM schedules WHERE time_zone = 'Asia/Karachi'"); n != 1 {
		t.Fatalf("%d schedules kept their zone", n)
	}
}
