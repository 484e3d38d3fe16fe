// Package callhours decides when a contact may be called: a campaign's calling window (a time of day
// range on some weekdays) applied in the contact's local time, which comes from its phone number (the
// time zones libphonenumber's data gives its prefix).
package callhours

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"switchboard/cronspec"
)

// Window is a calling window: from From to To (minutes of the day; To before From runs past midnight)
// on Weekdays (ISO numbers; a window past midnight belongs to the day it starts on).
type Window struct {
	From, To int
	Weekdays [8]bool
}

// Parse reads a window: from and to as "HH:MM", weekdays as a cron-like field ("1-5"; empty: every
// day). A window that never opens (from equal to to) is refused.
func Parse(from, to, weekdays string) (Window, error) {
	var w Window
	var err error
	if w.From, err = minutes(from); err != nil {
		return w, fmt.Errorf("from %q: %w", from, err)
	}
	if w.To, err = minutes(to); err != nil {
		return w, fmt.Errorf("to %q: %w", to, err)
	}
	if w.From == w.To {
		return w, fmt.Errorf("the window from %s to %s never opens", from, to)
	}
	if w.Weekdays, err = cronspec.Weekdays(weekdays); err != nil {
		return w, err
	}
	return w, nil
}

func minutes(hhmm string) (int, error) {
	h, m, ok := strings.Cut(hhmm, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("want HH:MM from 00:00 to 24:00")
	}
	return hh*60 + mm, nil
}

// Open reports whether local time t (in the contact's zone) falls in the window.
func (w Window) Open(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if w.From < w.To {
		return w.Weekdays[cronspec.ISOWeekday(t)] && m >= w.From && m < w.To
	}
	// Past midnight: the evening part belongs to today, the morning part to yesterday's window.
	if m >= w.From {
		return w.Weekdays[cronspec.ISOWeekday(t)]
	}
	return m < w.To && w.Weekdays[cronspec.ISOWeekday(t.AddDate(0, 0, -1))]
}

// NextOpen answers the first minute at or after t when the window is open in loc, within eight days.
func (w Window) NextOpen(t time.Time, loc *time.Location) (time.Time, bool) {
	t = t.In(loc)
	if w.Open(t) {
		return t, true
	}
	for d := 0; d <= 8; d++ {
		day := t.AddDate(0, 0, d)
		start := time.Date(day.Year(), day.Month(), day.Day(), w.From/60, w.From%60, 0, 0, loc)
		if start.After(t) && w.Open(start) {
			return start, true
		}
	}
	return time.Time{}, false
}

// Zone answers the IANA time zone of a phone number (E.164, or national in region), or fallback when its
// prefix has none or several that disagree on the time (a country spanning zones, unless its prefix
// narrows it).
func Zone(phone, region, fallback string) string {
	n, err := phonenumbers.Parse(phone, region)
	if err != nil {
		return fallback
	}
	zones, err := phonenumbers.GetTimezonesForNumber(n)
	if err != nil || len(zones) == 0 || zones[0] == phonenumbers.UNKNOWN_TIMEZONE {
		return fallback
	}
	if len(zones) > 1 {
		now := time.Now()
		_, first := now.In(load(zones[0])).Zone()
		for _, z := range zones[1:] {
			if _, off := now.In(load(z)).Zone(); off != first {
				return fallback
			}
		}
	}
	return zones[0]
}

// load answers the location of an IANA zone name, UTC when there is none. Locations are kept once
// loaded: time.LoadLocation reads the zone database every time, and a campaign's prepare asks for a
// zone of every contact (11% of the campaign bench's CPU went to it, with US numbers of ten zones).
func load(name string) *time.Location {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	locations.Store(name, loc)
	return loc
}

var locations sync.Map // zone name → *time.Location
