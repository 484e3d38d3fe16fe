package gateway

import (
	"net/url"
	"testing"
)

// TestExpand: each {name} of vals is replaced once, escaped; other braces stay as they are, and a value
// is never expanded again.
func TestExpand(t *testing.T) {
	vals := map[string]string{"to": "+1 555", "text": "{to} & more", "from": ""}
	for tmpl, want := range map[string]string{
		"":                    "",
		"plain":               "plain",
		"to={to}&text={text}": "to=%2B1+555&text=%7Bto%7D+%26+more",
		"{to}{to}":            "%2B1+555%2B1+555",
		"{unknown} {to":       "{unknown} {to",
		"{{to}}":              "{%2B1+555}",
		"from={from}&x={}":    "from=&x={}",
		"}{text":              "}{text",
	} {
		if got := expand(tmpl, vals, url.QueryEscape); got != want {
			t.Errorf("expand(%q) = %q, want %q", tmpl, got, want)
		}
	}
}
