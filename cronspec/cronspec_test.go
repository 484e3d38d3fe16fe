package cronspec

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	for _, c := range []struct {
		name  string
		f     Fields
		after string
		want  string // "" when it never fires
	}{
		{"every minute", Fields{}, "2026-11-27 10:15", "2026-11-27 10:16"},
		{"a minute of each hour", Fields{Minute: "30"}, "2026-11-27 10:30", "2026-11-27 11:30"},
		{"09:00 on weekdays, from a Friday evening", Fields{Weekday: "1-5", Hour: "9", Minute: "0"}, "2026-11-27 18:00", "2026-11-30 09:00"},
		{"Sundays are 7", Fields{Weekday: "7", Hour: "0", Minute: "0"}, "2026-11-27 18:00", "2026-11-29 00:00"},
		{"step from a start", Fields{Minute: "5/20"}, "2026-11-27 10:26", "2026-11-27 10:45"},
		{"step over a range", Fields{Hour: "8-18/5", Minute: "0"}, "2026-11-27 13:00", "2026-11-27 18:00"},
		{"list", Fields{Hour: "1,13", Minute: "0"}, "2026-11-27 13:00", "2026-11-28 01:00"},
		{"29 February", Fields{Month: "2", Day: "29", Hour: "12", Minute: "0"}, "2026-11-27 00:00", "2028-02-29 12:00"},
		{"new year", Fields{Month: "1", Day: "1", Hour: "0", Minute: "0"}, "2026-12-31 23:59", "2027-01-01 00:00"},
		{"a year gone", Fields{Year: "2020"}, "2026-11-27 00:00", ""},
		{"31 April never comes", Fields{Month: "4", Day: "31"}, "2026-11-27 00:00", ""},
		{"day and weekday both", Fields{Day: "13", Weekday: "5", Hour: "0", Minute: "0"}, "2026-11-27 00:00", "2027-08-13 00:00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(c.f)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Next(at(c.after), nil)
			if c.want == "" {
				if ok {
					t.Fatalf("fires at %s, want never", got)
				}
				return
			}
			if !ok || !got.Equal(at(c.want)) {
				t.Fatalf("next after %s = %s (%v), want %s", c.after, got, ok, c.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		f    Fields
		want string
	}{
		{Fields{Minute: "60"}, "minute \"60\": 60 is outside 0-59"},
		{Fields{Weekday: "0"}, "weekday \"0\": 0 is outside 1-7"},
		{Fields{Hour: "9-5"}, "runs backwards"},
		{Fields{Day: "*/0"}, "not a positive number"},
		{Fields{Month: "jan"}, "not a number"},
		{Fields{Year: "1969"}, "outside 1970-2999"},
	} {
		if _, err := Parse(c.f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%+v) = %v, want an error with %q", c.f, err, c.want)
		}
	}
}

// TestNextInZone: fields are read in the zone given; 09:00 in Karachi is 04:00 UTC.
func TestNextInZone(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Karachi")
	if err != nil {
		t.Skip("no time zone data")
	}
	s, err := Parse(Fields{Hour: "9", Minute: "0"})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := s.Next(at("2026-11-27 05:00"), loc)
	if !ok || !got.Equal(at("2026-11-28 04:00")) {
		t.Fatalf("next 09:00 in Karachi after 05:00 UTC (10:00 there) = %s, want 2026-11-28 04:00 UTC", got.UTC())
	}
}
