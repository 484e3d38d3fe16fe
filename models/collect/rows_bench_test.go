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

// seedDebtors defines debtor in a new database and stores n debtors in bulk (one statement per field):
// de_status cycles through 5 values, de_owing is rowid % 1000, de_name is "name<rowid>".
func seedDebtors(tb testing.TB, db *gorm.DB, n int) (collect.Scope, *collect.RecordDef) {
	ctx := context.Background()
	d, err := collect.CreateDatabase(ctx, db, "cv_bench")
	if err != nil {
		tb.Fatal(err)
	}
	def, err := collect.CreateRecordDef(ctx, db, d.Scope(), collect.RecordDefInput{Name: "debtor", RowIDField: "de_rowid",
		Fields: []collect.FieldInput{{Name: "de_name", Type: "text"}, {Name: "de_status", Type: "text"}, {Name: "de_owing", Type: "number"}}})
	if err != nil {
		tb.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if err := db.Exec(q, args...).Error; err != nil {
			tb.Fatal(err)
		}
	}
	exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO collect_rows (id, database_id, record_id, created_at, updated_at) SELECT i, ?, ?, 0, 0 FROM n`, n, d.ID, def.ID)
	fields := map[string]string{
		"de_name":   `'name' || CAST(id AS TEXT), NULL`,
		"de_status": `CASE id % 5 WHEN 0 THEN 'NEW' WHEN 1 THEN 'ACT' WHEN 2 THEN 'PAID' WHEN 3 THEN 'HOLD' ELSE 'CLOSED' END, NULL`,
		"de_owing":  `CAST(id % 1000 AS TEXT), id % 1000`,
	}
	for name, expr := range fields {
		exec(`INSERT INTO collect_values (row_id, field_id, database_id, text_value, num_value) SELECT id, ?, ?, `+expr+
			` FROM collect_rows WHERE record_id = ?`, def.Field(name).ID, d.ID, def.ID)
	}
	exec("ANALYZE")
	return d.Scope(), def
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
