package server

import (
	"encoding/json"
	"mime"
	"regexp"
	"strconv"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Lenient is implemented by an API whose real clients send JSON scalars in the other type than the
// contract's (ICTCore: ids as strings of digits, phones as numbers). Before validation, the contract
// middleware rewrites such values of a JSON request body, led by the operation's request schema:
//   - a string of digits where the schema types an integer becomes that integer;
//   - a JSON integer where the schema types a string with a pattern the integer's digits match (phones,
//     provider prefixes) becomes that string.
//
// Anything else is left for validation to judge, so the contract's limits still hold.
type Lenient interface {
	LenientScalars() bool
}

// LenientExtension on an operation of any contract turns the same rewriting on for that operation alone
// (Collect!'s runplan takes a rowid as a number or as the string a record read answers, R14).
const LenientExtension = "x-switchboard-lenient-scalars"

func lenient(api API, op *openapi3.Operation) bool {
	if on, _ := op.Extensions[LenientExtension].(bool); on {
		return true
	}
	l, ok := api.(Lenient)
	return ok && l.LenientScalars()
}

// normalizeBody rewrites v (a decoded JSON body, numbers as json.Number) as Lenient says, answering whether
// it changed anything.
func normalizeBody(op *openapi3.Operation, contentType string, v any) bool {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return false
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	media := op.RequestBody.Value.Content.Get(mt)
	if media == nil || media.Schema == nil {
		return false
	}
	_, changed := normalize(media.Schema.Value, v, 0)
	return changed
}

// digits is a string of digits, as ids arrive from form-minded clients.
var digits = regexp.MustCompile(`^[0-9]+$`)

// normalize answers v, or its replacement, and whether anything changed (maps and slices are changed
// in place). depth bounds recursive schemas.
func normalize(s *openapi3.Schema, v any, depth int) (any, bool) {
	if s == nil || depth > 32 {
		return v, false
	}
	changed := false
	for _, sub := range s.AllOf {
		var c bool
		if v, c = normalize(sub.Value, v, depth+1); c {
			changed = true
		}
	}
	switch v := v.(type) {
	case string:
		if s.Type.Is(openapi3.TypeInteger) && digits.MatchString(v) {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return json.Number(strconv.FormatInt(n, 10)), true
			}
		}
	case json.Number:
		if s.Type.Is(openapi3.TypeString) && s.Pattern != "" && digits.MatchString(string(v)) {
			if re := compiledPattern(s.Pattern); re != nil && re.MatchString(string(v)) {
				return string(v), true
			}
		}
	case map[string]any:
		for k, e := range v {
			ps := s.Properties[k]
			if ps == nil && s.AdditionalProperties.Schema != nil {
				ps = s.AdditionalProperties.Schema
			}
			if ps == nil {
				continue
			}
			if n, c := normalize(ps.Value, e, depth+1); c {
				v[k], changed = n, true
			}
		}
	case []any:
		if s.Items != nil {
			for i, e := range v {
				if n, c := normalize(s.Items.Value, e, depth+1); c {
					v[i], changed = n, true
				}
			}
		}
	}
	return v, changed
}

var patterns sync.Map // pattern → *regexp.Regexp (nil when Go cannot compile it)

func compiledPattern(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(p)
	if err != nil {
		re = nil
	}
	patterns.Store(p, re)
	return re
}
