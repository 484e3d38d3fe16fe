package cim_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/cim"
	"switchboard/models/events"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

func ptr[T any](v T) *T { return &v }

// TestIDs: an _id is 24 hex digits, its creation second then its counter; ids sort as their _ids do.
func TestIDs(t *testing.T) {
	t.Parallel()
	id := int64(0x6b0a1dbe)<<24 | 5
	s := cim.FormatID(id)
	if s != "6b0a1dbe0000000000000005" {
		t.Fatalf("FormatID: %s", s)
	}
	if back, exact, ok := cim.ParseID(s); !ok || !exact || back != id {
		t.Fatalf("ParseID(%s) = %d %v %v", s, back, exact, ok)
	}
	if cim.FormatID(id+1) <= s || cim.FormatID(int64(0x6b0a1dbf)<<24) <= cim.FormatID(id+1) {
		t.Fatal("_ids do not sort as their ids")
	}
	// Well formed, but a counter no id has: the greatest id of that second, not exact.
	if back, exact, ok := cim.ParseID("6b0a1dbeffffffffffffffff"); !ok || exact || back != int64(0x6b0a1dbe)<<24|(1<<24-1) {
		t.Fatalf("ParseID of a large counter = %d %v %v", back, exact, ok)
	}
	for _, bad := range []string{"", "6b0a1dbe", "6b0a1dbe000000000000000g", "6b0a1dbe00000000000000050"} {
		if _, _, ok := cim.ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
}

// TestPhoneDigits: phones as people write them (R17).
func TestPhoneDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"0300-1234567": "03001234567", "+92 300 1234567": "923001234567", "101": "101",
		"(0300) 123.45/67": "03001234567", " +1 555": "1555"} {
		if got, err := cim.PhoneDigits(in); err != nil || got != want {
			t.Errorf("PhoneDigits(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "call me", "1+2", "---", strings.Repeat("1", 21), "12 ext 3"} {
		if got, err := cim.PhoneDigits(bad); err == nil {
			t.Errorf("PhoneDigits(%q) = %q, want an error", bad, got)
		}
	}
}

// record runs RecordCall as the call-event stream does: inside the transaction that records the event.
func record(t *testing.T, db *gorm.DB, e events.CallEvent) {
	t.Helper()
	if err := db.Transaction(func(tx *gorm.DB) error { return cim.RecordCall(context.Background(), tx, e) }); err != nil {
		t.Fatalf("RecordCall %+v: %v", e, err)
	}
}

// calls answers the trees of a contact, each with its legs.
func calls(t *testing.T, db *gorm.DB, contactID int64) []cim.Tree {
	t.Helper()
	page, err := cim.LoadInteractions(context.Background(), db, contactID, models.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// trees counts every stored tree, linked or not.
func trees(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&cim.Tree{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecordCall: the call-event sink finds the contact by the caller's number (by digits) or through the
// mapping, and records one leg per agent, its start and, once ended, its duration; idempotent; an event
// with no contact (or several) records nothing and is no error.
func TestRecordCall(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		for _, a := range []cim.AttributeInput{{Key: ptr("customerNo")}, {Key: ptr("vip"), Type: ptr("bool")}} {
			if _, err := cim.SaveAttribute(ctx, db, a); err != nil {
				t.Fatal(err)
			}
		}
		save := func(v cim.Values) int64 {
			c, err := cim.SaveContact(ctx, db, v)
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		john := save(cim.Values{"first_name": "John", "phone1": "0300-1234567", "customerNo": "A-100", "vip": true})
		johanna := save(cim.Values{"first_name": "Johanna", "phone1": "0311-2223334", "customerNo": "B-200"})
		sara := save(cim.Values{"first_name": "Sara", "phone1": "0321-7654321"})

		// No mapping: the caller's number, by digits, against every phone attribute.
		t0 := time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)
		call := events.CallEvent{UniqueID: "1732700000.1", Direction: events.Inbound, Phone: "+0300 1234567", Agent: "crm-15",
			State: events.Ringing, ReceivedAt: t0}
		record(t, db, call)
		call.State, call.ReceivedAt = events.Answered, t0.Add(5*time.Second)
		record(t, db, call)
		call.State, call.ReceivedAt = events.Ended, t0.Add(95*time.Second)
		record(t, db, call)
		record(t, db, call) // again: changes nothing
		ts := calls(t, db, john)
		if len(ts) != 1 || ts[0].CallID != call.UniqueID || ts[0].Phone != "+0300 1234567" || len(ts[0].Legs) != 1 {
			t.Fatalf("John's calls: %+v", ts)
		}
		l := ts[0].Legs[0]
		if l.CallID != call.UniqueID || l.InteractionType != "AGENT" || l.AgentID != "crm-15" || *l.Type != "INBOUND" ||
			*l.StartTime != "2026-11-27T10:15:00Z" || *l.CallDuration != "95" {
			t.Fatalf("leg: %+v type %v start %v duration %v", l, *l.Type, *l.StartTime, l.CallDuration)
		}

		// An outbound call nobody answered yet names no agent: an IVR leg.
		record(t, db, events.CallEvent{UniqueID: "out-1", Direction: events.Outbound, Phone: "03217654321", State: events.Ringing, ReceivedAt: t0})
		if ts := calls(t, db, sara); len(ts) != 1 || ts[0].Legs[0].InteractionType != "IVR" || ts[0].Legs[0].AgentID != "" ||
			*ts[0].Legs[0].Type != "OUTBOUND" || ts[0].Legs[0].CallDuration != nil {
			t.Fatalf("Sara's outbound call: %+v", ts)
		}

		// Nobody has the number, or there is none: nothing recorded, no error.
		before := trees(t, db)
		record(t, db, events.CallEvent{UniqueID: "stranger", Direction: events.Inbound, Phone: "0399-0000000", State: events.Ringing})
		record(t, db, events.CallEvent{UniqueID: "withheld", Direction: events.Inbound, State: events.Ringing})
		record(t, db, events.CallEvent{UniqueID: "garbage", Direction: events.Inbound, Phone: "anonymous", State: events.Ringing})
		if n := trees(t, db); n != before {
			t.Fatalf("calls of nobody recorded: %d trees, want %d", n, before)
		}

		// A mapping: callVariable3 holds the customer number, and wins over the number the call comes from.
		if _, err := cim.AddMapping(ctx, db, cim.MappingInput{CallVar: cim.SourceCallVariable, VarNumber: "3", Key: "customerNo"}); err != nil {
			t.Fatal(err)
		}
		record(t, db, events.CallEvent{UniqueID: "mapped", Direction: events.Inbound, Phone: "0321-7654321", State: events.Ringing,
			Variables: map[string]string{"callVariable3": "B-200"}})
		if ts := calls(t, db, johanna); len(ts) != 1 || ts[0].CallID != "mapped" {
			t.Fatalf("Johanna's calls through the mapping: %+v", ts)
		}
		// A condition whose variable the event lacks is skipped: then the caller's number.
		record(t, db, events.CallEvent{UniqueID: "unmapped", Direction: events.Inbound, Phone: "0321-7654321", State: events.Ringing,
			Variables: map[string]string{"callVariable4": "B-200"}})
		if ts := calls(t, db, sara); len(ts) != 2 || ts[0].CallID != "unmapped" {
			t.Fatalf("Sara's calls by number: %+v", ts)
		}
		// Conditions are ANDed: customer A-100 is not at Sara's number.
		if _, err := cim.AddMapping(ctx, db, cim.MappingInput{CallVar: cim.SourceANI, Key: "phone"}); err != nil {
			t.Fatal(err)
		}
		before = trees(t, db)
		record(t, db, events.CallEvent{UniqueID: "mismatch", Direction: events.Inbound, Phone: "0321-7654321", State: events.Ringing,
			Variables: map[string]string{"callVariable3": "A-100"}})
		// Several contacts match (first names starting with "Jo"): nothing recorded.
		if _, err := cim.AddMapping(ctx, db, cim.MappingInput{CallVar: cim.SourceECCVariable, CallVariable: "user.first", Key: "first_name"}); err != nil {
			t.Fatal(err)
		}
		page, err := cim.ListMappings(ctx, db, models.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items[:2] {
			if _, err := cim.DeleteMapping(ctx, db, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		record(t, db, events.CallEvent{UniqueID: "ambiguous", Direction: events.Inbound, State: events.Ringing,
			Variables: map[string]string{"user.first": "Jo"}})
		// A value that cannot fit its attribute matches nobody.
		if _, err := cim.AddMapping(ctx, db, cim.MappingInput{CallVar: cim.SourceCallVariable, VarNumber: "1", Key: "vip"}); err != nil {
			t.Fatal(err)
		}
		record(t, db, events.CallEvent{UniqueID: "not-a-bool", Direction: events.Inbound, State: events.Ringing,
			Variables: map[string]string{"callVariable1": "maybe"}})
		if n := trees(t, db); n != before {
			t.Fatalf("unmatched calls recorded: %d trees, want %d", n, before)
		}
		record(t, db, events.CallEvent{UniqueID: "ecc", Direction: events.Inbound, State: events.Ringing,
			Variables: map[string]string{"user.first": "Johan"}})
		if ts := calls(t, db, johanna); len(ts) != 2 || ts[0].CallID != "ecc" {
			t.Fatalf("Johanna's calls through an ECC variable: %+v", ts)
		}

		// A tree the HTTP API stored unlinked is linked by the event; the sink rolls back with its event.
		if _, err := cim.SaveInteraction(ctx, db, "http-first", "", cim.LegInput{WrapUp: ptr("Bill inquiry")}); err != nil {
			t.Fatal(err)
		}
		record(t, db, events.CallEvent{UniqueID: "http-first", Direction: events.Inbound, State: events.Ended,
			Variables: map[string]string{"user.first": "Sara"}})
		if ts := calls(t, db, sara); len(ts) != 3 || ts[0].CallID != "http-first" || len(ts[0].Legs) != 2 {
			t.Fatalf("Sara's calls after linking: %+v", ts)
		}
		before = trees(t, db)
		errRollback := errors.New("the event's own write failed")
		err = db.Transaction(func(tx *gorm.DB) error {
			if err := cim.RecordCall(ctx, tx, events.CallEvent{UniqueID: "rolled-back", Direction: events.Inbound,
				State: events.Ringing, Variables: map[string]string{"user.first": "Sara"}}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) || trees(t, db) != before {
			t.Fatalf("a rolled-back event left its call: %v, %d trees", err, trees(t, db))
		}
	})
}

// TestConcurrentWrites: saves racing for one number leave it with one contact and refuse the others with
// Conflict; racing first saves of one call make one tree with one leg; ids stay unique.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := cim.SaveContact(ctx, db, cim.Values{"phone1": "0300-1234567", "first_name": strings.Repeat("x", i+1)})
				errs <- err
			}()
		}
		saved := 0
		for range n {
			switch err := <-errs; models.KindOf(err) {
			case models.Conflict:
			case models.Internal:
				if err != nil {
					t.Fatalf("save: %v", err)
				}
				saved++
			default:
				t.Fatalf("save: %v (%s)", err, models.KindOf(err))
			}
		}
		page, err := cim.ListContacts(ctx, db, models.ListQuery{Count: true})
		if err != nil || saved != 1 || *page.Total != 1 {
			t.Fatalf("%d saves succeeded, %v contacts stored (%v), want 1", saved, page.Total, err)
		}

		legs := make(chan int64, n)
		for range n {
			go func() {
				l, err := cim.SaveInteraction(ctx, db, "race", "0300-1234567", cim.LegInput{AgentID: ptr("a1"), InteractionType: ptr("AGENT")})
				if err != nil {
					t.Errorf("save interaction: %v", err)
					legs <- 0
					return
				}
				legs <- l.ID
			}()
		}
		first := <-legs
		for range n - 1 {
			if id := <-legs; id != first {
				t.Fatalf("racing saves of one leg answered legs %d and %d", first, id)
			}
		}
		ts := calls(t, db, page.Items[0].ID)
		if len(ts) != 1 || len(ts[0].Legs) != 1 || trees(t, db) != 1 {
			t.Fatalf("racing saves of one call: %+v", ts)
		}
	})
}
