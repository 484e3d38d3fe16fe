package contracttest

import (
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// stringCandidates are tried, in order, for a string with a pattern and no example.
var stringCandidates = []string{
	"1", "123", "a", "abc", "cv_masterdb", "0123456789abcdef01234567", "a1", "1608743891.1344", "REV",
	"user@example.com", "2026-01-02 03:04:05", "2026-01-02", "SIP", "*", "1-5",
	"123e4567-e89b-12d3-a456-426614174000", "QWRtaW46OTgzNWM1MjUtMzU2Ny00YjgyLWEwYWYtY2NkMjNlMDhjNzA3",
	"43tzLWO2RJzlxQPpsw4EOA==", "csv", // a Collect! WebSocket id and report destination
}

// sample builds a value that satisfies s as far as a generator reasonably can: the contract's own
// example first, then enums, defaults, and values shaped by type, format, pattern and bounds.
func sample(s *openapi3.Schema, depth int) any {
	if s == nil {
		return "x"
	}
	if s.Example != nil && s.VisitJSON(s.Example) == nil {
		return s.Example
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Default != nil {
		return s.Default
	}
	for _, alts := range [][]*openapi3.SchemaRef{s.OneOf, s.AnyOf} {
		if len(alts) > 0 && alts[0].Value != nil {
			return sample(alts[0].Value, depth)
		}
	}
	if len(s.AllOf) > 0 {
		merged := map[string]any{}
		for _, part := range s.AllOf {
			if m, ok := sample(part.Value, depth).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		return merged
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0:
		m := map[string]any{}
		if depth > 4 {
			return m
		}
		for _, name := range sortedKeys(s.Properties) {
			if p := s.Properties[name]; p.Value != nil {
				m[name] = sample(p.Value, depth+1)
			}
		}
		return m
	case s.Type.Is("array"):
		n := int(s.MinItems)
		if n == 0 {
			n = 1
		}
		out := make([]any, n)
		for i := range out {
			out[i] = "x"
			if s.Items != nil {
				out[i] = sample(s.Items.Value, depth+1)
			}
		}
		return out
	case s.Type.Is("integer"):
		v := 1.0
		if s.Min != nil && *s.Min > v {
			v = *s.Min
		}
		if s.Max != nil && *s.Max < v {
			v = *s.Max
		}
		return int64(v)
	case s.Type.Is("number"):
		v := 1.0
		if s.Min != nil && *s.Min > v {
			v = *s.Min
		}
		return v
	case s.Type.Is("boolean"):
		return true
	}
	return sampleString(s)
}

func sampleString(s *openapi3.Schema) string {
	switch s.Format {
	case "email":
		return "user@example.com"
	case "date-time":
		return "2026-01-02T03:04:05Z"
	case "date":
		return "2026-01-02"
	case "uuid":
		return "123e4567-e89b-12d3-a456-426614174000"
	}
	candidates := stringCandidates
	if s.Pattern == "" {
		candidates = []string{"x"}
	}
	for _, c := range candidates {
		if n := int(s.MinLength); len(c) < n {
			c += strings.Repeat("x", n-len(c))
		}
		if s.VisitJSON(c) == nil {
			return c
		}
	}
	return "x"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wrongType answers a value of another JSON type than s wants.
func wrongType(s *openapi3.Schema) any {
	switch {
	case s.Type.Is("string"):
		return 12345
	case s.Type.Is("object"), s.Type.Is("array"):
		return "not-a-structure"
	}
	return "not-a-number"
}
