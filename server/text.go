package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"switchboard/models"
)

// checkQuery and checkBody apply the text hygiene every contract states: no NUL or other control
// character in any text value (tab, CR and LF are allowed: descriptions and message bodies have lines),
// and a JSON body is one value with nothing after it. Go's JSON decoder would store "\u0000" as it is,
// so this runs before the contract's own validation.
func checkQuery(query url.Values) error {
	for name, vs := range query {
		for _, v := range vs {
			if bad(name) || bad(v) {
				return models.Errorf(models.Invalid, "Data validation failed, query parameter %q holds a control character", name)
			}
		}
	}
	return nil
}

// checkBody answers a JSON body's decoded value (numbers as json.Number; nil when it is not JSON or
// malformed), so lenient APIs can normalise it without decoding it again.
func checkBody(contentType string, body []byte) (any, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return checkJSON(body)
	case mt == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil // the contract's validation reports a malformed form
		}
		for name, vs := range form {
			for _, v := range vs {
				if bad(name) || bad(v) {
					return nil, models.Errorf(models.Invalid, "Data validation failed, form field %q holds a control character", name)
				}
			}
		}
	}
	return nil, nil
}

var errTrailing = models.Errorf(models.Invalid, "Data validation failed, request body has data after its JSON value")

func checkJSON(body []byte) (any, error) {
	// Raw control characters are already invalid JSON; only escaped ones (\u0000, \b, \f) need decoding,
	// so a body without a backslash skips the walk.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil // malformed JSON: the contract's validation says so
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errTrailing
	}
	if bytes.IndexByte(body, '\\') < 0 {
		return v, nil
	}
	if where, ok := findControl(v, ""); ok {
		return nil, models.Errorf(models.Invalid, "Data validation failed, request body at %q holds a control character", "/"+where)
	}
	return v, nil
}

// findControl answers the JSON pointer of the first text (key or value) holding a control character.
func findControl(v any, at string) (string, bool) {
	switch v := v.(type) {
	case string:
		return at, bad(v)
	case map[string]any:
		for k, e := range v {
			p := strings.TrimPrefix(at+"/"+k, "/")
			if bad(k) {
				return p, true
			}
			if where, ok := findControl(e, p); ok {
				return where, true
			}
		}
	case []any:
		for i, e := range v {
			if where, ok := findControl(e, strings.TrimPrefix(at+"/"+strconv.Itoa(i), "/")); ok {
				return where, true
			}
		}
	}
	return "", false
}

// bad tells whether s holds a C0 control character other than tab, CR and LF, or DEL.
func bad(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return true
		}
	}
	return false
}
