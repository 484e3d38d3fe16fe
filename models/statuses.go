package models

import "net/http"

// Statuses answers the usual kind → HTTP status table with the vendor's own validation status (ICTCore
// answers bad input with 412, most others with 400). An API whose document says otherwise edits its copy.
func Statuses(invalid int) map[Kind]int {
	return map[Kind]int{
		Invalid:         invalid,
		Unauthenticated: http.StatusUnauthorized,
		Forbidden:       http.StatusForbidden,
		NotFound:        http.StatusNotFound,
		Conflict:        http.StatusConflict,
		TooLarge:        http.StatusRequestEntityTooLarge,
		Throttled:       http.StatusTooManyRequests,
		Busy:            http.StatusServiceUnavailable,
		NotBuilt:        http.StatusNotImplemented,
		Unsupported:     http.StatusUnsupportedMediaType,
		Locked:          http.StatusLocked,
	}
}
