// Package cronspec reads ICTCore's cron-like schedule fields (year, month, day, weekday, hour, minute)
// and finds the next minute they match. Each field takes `*`, a number, a range `a-b`, a step `*/n` or
// `a-b/n`, and lists of those joined by commas; an empty field means `*`. Fields are read in the time zone
// Next is given. Weekdays run
// 1 (Monday) to 7 (Sunday), as ISO 8601 numbers them. A minute matches when every field matches it, day
// and weekday included (cron would take either of those two; one rule for all six fields is easier to
// read in an API's answer).
package cronspec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The years a spec may name: the search for a next match stops at MaxYear.
const (
	MinYear = 1970
	MaxYear = 2999
)

// field is one field's allowed values, index v-min.
type field struct {
	min  int
	vals []bool
}

func (f field) has(v int) bool { return v >= f.min && v-f.min < len(f.vals) && f.vals[v-f.min] }

// Spec is a parsed set of fields.
type Spec struct {
	year, month, day, weekday, hour, minute field
}

// Fields are the six fields as the API takes them.
type Fields struct {
	Year, Month, Day, Weekday, Hour, Minute string
}

// Empty reports whether no field is given.
func (f Fields) Empty() bool { return f == Fields{} }

// Parse reads the fields; an error names the field and what is wrong with it.
func Parse(f Fields) (Spec, error) {
	var (
		s   Spec
		err error
	)
	for _, p := range []struct {
		name     string
		text     string
		min, max int
		dst      *field
	}{
		{"year", f.Year, MinYear, MaxYear, &s.year},
		{"month", f.Month, 1, 12, &s.month},
		{"day", f.Day, 1, 31, &s.day},
		{"weekday", f.Weekday, 1, 7, &s.weekday},
		{"hour", f.Hour, 0, 23, &s.hour},
		{"minute", f.Minute, 0, 59, &s.minute},
	} {
		if *p.dst, err = parseField(p.text, p.min, p.max); err != nil {
			return Spec{}, fmt.Errorf("%s %q: %w", p.name, p.text, err)
		}
	}
	return s, nil
}

func parseField(text string, lo, hi int) (field, error) {
	f := field{min: lo, vals: make([]bool, hi-lo+1)}
	if strings.TrimSpace(text) == "" {
		text = "*"
	}
	for _, item := range strings.Split(text, ",") {
		item = strings.TrimSpace(item)
		rng, stepText, stepped := strings.Cut(item, "/")
		step := 1
		if stepped {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return field{}, fmt.Errorf("step %q is not a positive number", stepText)
			}
			step = n
		}
		from, to := lo, hi
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = number(a, lo, hi); err != nil {
				return field{}, err
			}
			to = from
			if isRange {
				if to, err = number(b, lo, hi); err != nil {
					return field{}, err
				}
				if to < from {
					return field{}, fmt.Errorf("range %s runs backwards", rng)
				}
			} else if stepped {
				to = hi // "5/15": from 5 on, every 15
			}
		}
		for v := from; v <= to; v += step {
			f.vals[v-lo] = true
		}
	}
	return f, nil
}

func number(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is outside %d-%d", n, lo, hi)
	}
	return n, nil
}

// Next answers the first whole minute after t that the spec matches in time zone loc (nil: UTC), and
// false when none comes before the end of MaxYear. A local time a daylight-saving change skips matches
// the minute it is moved to, as time.Date moves it.
func (s Spec) Next(t time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc).Truncate(time.Minute).Add(time.Minute)
	// Each miss jumps to the start of the next year, month, day, hour or minute, so the walk takes at most
	// a few dozen steps per year it crosses.
	for t.Year() <= MaxYear {
		switch {
		case !s.year.has(t.Year()):
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, loc)
		case !s.month.has(int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !s.day.has(t.Day()) || !s.weekday.has(isoWeekday(t)):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case !s.hour.has(t.Hour()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
		case !s.minute.has(t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

func isoWeekday(t time.Time) int {
	if d := t.Weekday(); d != time.Sunday {
		return int(d)
	}
	return 7
}

// Weekdays reads one weekday field (1 Monday … 7 Sunday; empty: every day) into a set indexed by ISO
// weekday number.
func Weekdays(text string) ([8]bool, error) {
	f, err := parseField(text, 1, 7)
	if err != nil {
		return [8]bool{}, fmt.Errorf("weekdays %q: %w", text, err)
	}
	var set [8]bool
	for d := 1; d <= 7; d++ {
		set[d] = f.has(d)
	}
	return set, nil
}

// ISOWeekday is t's weekday numbered 1 (Monday) to 7 (Sunday).
func ISOWeekday(t time.Time) int { return isoWeekday(t) }
