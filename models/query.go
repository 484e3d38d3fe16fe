package models

import (
	"strings"

	"gorm.io/gorm"
)

// Page is a window on a list: Limit rows after skipping Offset.
type Page struct {
	Limit  int
	Offset int64
}

// Max and default page sizes, as DESIGN section 4 sets them.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

func (p Page) apply(q *gorm.DB) *gorm.DB {
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	q = q.Limit(limit)
	if p.Offset > 0 {
		q = q.Offset(int(p.Offset))
	}
	return q
}

// likeEscape makes a user's value literal inside a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func contains(v string) string { return "%" + strings.ToLower(likeEscaper.Replace(v)) + "%" }
func endsWith(v string) string { return "%" + likeEscaper.Replace(v) }
func eqInt(q *gorm.DB, col string, v *int64) *gorm.DB {
	if v != nil {
		q = q.Where(col+" = ?", *v)
	}
	return q
}

// createdBetween applies ICTCore's before/after filters (unix seconds, inclusive).
func createdBetween(q *gorm.DB, col string, before, after *int64) *gorm.DB {
	if before != nil {
		q = q.Where(col+" <= ?", *before)
	}
	if after != nil {
		q = q.Where(col+" >= ?", *after)
	}
	return q
}
