package models

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// Page sizes, as DESIGN section 4 sets them.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ListQuery is what a client asks of any list: a window (limit and offset, or a keyset cursor) and
// whether to count all matches. The count is opt-in: on a million rows it costs more than the page.
type ListQuery struct {
	Limit  int    // 0: DefaultLimit; capped at MaxLimit
	Offset int64  // rows to skip (ignored with After)
	After  *int64 // keyset: only rows whose key is greater
	Count  bool   // also count every match (Page.Total)
}

// PageOf is one page of a list.
type PageOf[T any] struct {
	Items []T
	Total *int64 // set when the query asked for a count
	// More is true when at least one more row follows; NextAfter (keyset) and NextOffset say where.
	More       bool
	NextAfter  int64
	NextOffset int64
}

// Where is one whitelisted filter; nil values filter nothing, so a list passes every parameter as it came.
type Where func(q *gorm.DB) *gorm.DB

// Equal keeps rows whose col equals *v.
func Equal[V any](col string, v *V) Where {
	if v == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB { return q.Where(col+" = ?", *v) }
}

// AtMost and AtLeast keep rows whose col is at most (at least) *v, inclusive.
func AtMost(col string, v *int64) Where {
	if v == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB { return q.Where(col+" <= ?", *v) }
}

// AtLeast keeps rows whose col is at least *v.
func AtLeast(col string, v *int64) Where {
	if v == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB { return q.Where(col+" >= ?", *v) }
}

// Contains keeps rows whose col contains *v, ignoring case the same way on both stores.
func Contains(col string, v *string) Where {
	if v == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB {
		return q.Where(Lower(q, col)+` LIKE ? ESCAPE '\'`, "%"+strings.ToLower(likeEscaper.Replace(*v))+"%")
	}
}

// StartsWith keeps rows whose col starts with *v, byte for byte, as a range the column's index serves
// (the index must use byte order: COLLATE "C" on Postgres, SQLite's default BINARY).
func StartsWith(col string, v *string) Where {
	if v == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB {
		c := col
		if IsPostgres(q) {
			c += ` COLLATE "C"`
		}
		return q.Where(c+" >= ? AND "+c+" < ?", *v, *v+"\U0010FFFF")
	}
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// List answers one page of model rows matching the filters, ordered by key (a unique integer column):
// the one list helper of every API. It reads one row more than the page to know whether another follows,
// so a client is never sent to an empty last page; id answers a row's key for the keyset cursor.
func List[T any](ctx context.Context, q *gorm.DB, key string, lq ListQuery, id func(*T) int64, where ...Where) (PageOf[T], error) {
	q = q.WithContext(ctx)
	for _, w := range where {
		if w != nil {
			q = w(q)
		}
	}
	var page PageOf[T]
	if lq.Count {
		var n int64
		if err := q.Session(&gorm.Session{}).Count(&n).Error; err != nil {
			return page, err
		}
		page.Total = &n
	}
	limit := lq.limit()
	q = q.Order(key).Limit(limit + 1)
	if lq.After != nil {
		q = q.Where(key+" > ?", *lq.After)
	} else if lq.Offset > 0 {
		q = q.Offset(int(lq.Offset))
	}
	if err := q.Find(&page.Items).Error; err != nil {
		return page, err
	}
	page.cut(limit, lq, id)
	return page, nil
}

// limit is the page size lq asks for: DefaultLimit when none, at most MaxLimit.
func (lq ListQuery) limit() int {
	if lq.Limit <= 0 {
		return DefaultLimit
	}
	return min(lq.Limit, MaxLimit)
}

// cut trims items read one beyond the page (limit) to the page, noting where the next one starts.
func (p *PageOf[T]) cut(limit int, lq ListQuery, id func(*T) int64) {
	if len(p.Items) > limit {
		p.Items, p.More = p.Items[:limit], true
		p.NextAfter = id(&p.Items[limit-1])
		p.NextOffset = lq.Offset + int64(limit)
	}
}

// Page answers one page of items already read and filtered, sorted by key, as List answers it from the
// store: for the short lists kept in one document.
func Page[T any](items []T, lq ListQuery, id func(*T) int64) PageOf[T] {
	page := PageOf[T]{Items: []T{}}
	if lq.Count {
		n := int64(len(items))
		page.Total = &n
	}
	limit := lq.limit()
	start := 0
	if lq.After != nil {
		for start < len(items) && id(&items[start]) <= *lq.After {
			start++
		}
	} else if lq.Offset > 0 {
		start = int(min(lq.Offset, int64(len(items))))
	}
	rest := items[start:]
	page.Items = append(page.Items, rest[:min(len(rest), limit+1)]...)
	page.cut(limit, lq, id)
	return page
}

// TakeOne loads the one row q finds into a new T. When there is none it answers notFound() (the caller's
// NotFound, naming what was looked for), else the store's error.
func TakeOne[T any](q *gorm.DB, notFound func() error) (*T, error) {
	var v T
	err := q.Take(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}
