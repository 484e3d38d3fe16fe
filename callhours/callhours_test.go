package callhours

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	weekdays, err := Parse("09:00", "17:00", "1-5")
	if err != nil {
		t.Fatal(err)
	}
	night, err := Parse("22:00", "02:00", "5") // Friday night into Saturday
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		w    Window
		t    string
		open bool
	}{
		{weekdays, "2026-11-27 09:00", true}, // Friday
		{weekdays, "2026-11-27 16:59", true},
		{weekdays, "2026-11-27 17:00", false},
		{weekdays, "2026-11-28 10:00", false}, // Saturday
		{night, "2026-11-27 23:00", true},     // Friday 23:00
		{night, "2026-11-28 01:30", true},     // Saturday 01:30: Friday's window
		{night, "2026-11-29 01:30", false},    // Sunday 01:30: Saturday has none
	} {
		if got := c.w.Open(at(c.t)); got != c.open {
			t.Errorf("%+v at %s: open %v, want %v", c.w, c.t, got, c.open)
		}
	}
	next, ok := weekdays.NextOpen(at("2026-11-27 18:00"), time.UTC)
	if !ok || !next.Equal(at("2026-11-30 09:00")) {
		t.Fatalf("next open after Friday 18:00 = %s, want Monday 09:00", next)
	}
	for _, bad := range [][3]string{{"09:00", "09:00", ""}, {"9", "10:00", ""}, {"09:00", "25:00", ""}, {"09:00", "10:00", "0"}} {
		if _, err := Parse(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestZone(t *testing.T) {
	for _, c := range []struct{ phone, region, want string }{
		{"+923001234567", "", "Asia/Karachi"},
		{"03001234567", "PK", "Asia/Karachi"},
		{"+12125550100", "", "America/New_York"},
		{"03001234567", "", "UTC"}, // national without a region: unknown
		{"not a number", "", "UTC"},
	} {
		if got := Zone(c.phone, c.region, "UTC"); got != c.want {
			t.Errorf("Zone(%q, %q) = %q, want %q", c.phone, c.region, got, c.want)
		}
	}
}
