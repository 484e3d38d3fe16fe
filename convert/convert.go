// Package convert holds the small generic conversions every API's handlers share between the generated
// contract types and the models: optional fields and pages of rows.
package convert

// Deref answers *p, or T's zero value when p is nil (an optional field left out).
func Deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Each converts every row of a page with conv, which reads the row in place.
func Each[T, U any](rows []T, conv func(*T) U) []U {
	out := make([]U, len(rows))
	for i := range rows {
		out[i] = conv(&rows[i])
	}
	return out
}
