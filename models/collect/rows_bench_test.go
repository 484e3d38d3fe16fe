package collect_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models/collect"
)

// benchRows is the number of debtors BenchmarkListRows stores.
const benchRows = 100_000

// seedDebtors stores n debtors in a new database cv_bench (collect.SeedDebtors: de_status cycles through
// 5 values, de_owing is rowid % 1000, de_name is "name<rowid>").
func seedDebtors(tb testing.TB, db *gorm.DB, n int) (collect.Scope, *collect.RecordDef) {
	s, def, err := collect.SeedDebtors(context.Background(), db, "cv_bench", n)
	if err != nil {
		tb.Fatal(err)
	}
	return s, def
}

// BenchmarkListRows measures one page (limit 100, with numRecords) of 100k debtors, unfiltered and
// filtered, on each store: go test -run '^$' -bench ListRows -benchtime 20x ./models/collect/
func BenchmarkListRows(b *testing.B) {
	for _, kind := range apitest.Kinds(b) {
		b.Run(kind, func(b *testing.B) {
			db := apitest.NewDB(b, kind)
			s, def := seedDebtors(b, db, benchRows)
			ctx := context.Background()
			for _, c := range []struct {
				name string
				q    collect.RowQuery
				want int64
			}{
				{"unfiltered", collect.RowQuery{}, benchRows},
				{"status_eq_20pct", collect.RowQuery{Filter: "de_status='NEW'"}, benchRows / 5},
				{"name_eq_1row", collect.RowQuery{Filter: "de_name='name77777'"}, 1},
				{"owing_gte_1pct", collect.RowQuery{Filter: "de_owing__gte=990"}, benchRows / 100},
				{"two_conditions", collect.RowQuery{Filter: "de_status='NEW',de_owing__lt=100"}, benchRows / 50},
				{"status_eq_sorted_desc_owing", collect.RowQuery{Filter: "de_status='NEW'", Sort: "-de_owing"}, benchRows / 5},
				{"unfiltered_page_500", collect.RowQuery{Page: 500}, benchRows},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						p, err := collect.ListRows(ctx, db, s, def, c.q)
						if err != nil {
							b.Fatal(err)
						}
						if p.NumRecords != c.want || len(p.Rows) == 0 {
							b.Fatalf("%d records, %d rows; want %d", p.NumRecords, len(p.Rows), c.want)
						}
					}
				})
			}
		})
	}
}
