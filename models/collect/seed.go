package collect

import (
	"context"

	"gorm.io/gorm"

	"switchboard/models"
)

// SeedDebtors defines the record debtor (rowid de_rowid; de_name text, de_status text, de_owing number) in a
// new database called name and stores n debtors in bulk, one statement per field, for benchmarks: rowids
// 1…n, de_status cycles through NEW, ACT, PAID, HOLD, CLOSED (rowid % 5), de_owing is rowid % 1000 and
// de_name is "name<rowid>". The rowids are explicit, so the store must hold no Collect! row yet; on Postgres
// the rowid sequence is moved past them, so creates work afterwards. It ends with ANALYZE.
func SeedDebtors(ctx context.Context, db *gorm.DB, name string, n int) (Scope, *RecordDef, error) {
	d, err := CreateDatabase(ctx, db, name)
	if err != nil {
		return Scope{}, nil, err
	}
	def, err := CreateRecordDef(ctx, db, d.Scope(), RecordDefInput{Name: "debtor", RowIDField: "de_rowid",
		Fields: []FieldInput{{Name: "de_name", Type: "text"}, {Name: "de_status", Type: "text"}, {Name: "de_owing", Type: "number"}}})
	if err != nil {
		return Scope{}, nil, err
	}
	q := db.WithContext(ctx)
	if err := q.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO collect_rows (id, database_id, record_id, created_at, updated_at) SELECT i, ?, ?, 0, 0 FROM n`, n, d.ID, def.ID).Error; err != nil {
		return Scope{}, nil, err
	}
	for _, f := range []struct{ name, expr string }{
		{"de_name", `'name' || CAST(id AS TEXT), NULL`},
		{"de_status", `CASE id % 5 WHEN 0 THEN 'NEW' WHEN 1 THEN 'ACT' WHEN 2 THEN 'PAID' WHEN 3 THEN 'HOLD' ELSE 'CLOSED' END, NULL`},
		{"de_owing", `CAST(id % 1000 AS TEXT), id % 1000`},
	} {
		if err := q.Exec(`INSERT INTO collect_values (row_id, field_id, database_id, text_value, num_value) SELECT id, ?, ?, `+f.expr+
			` FROM collect_rows WHERE record_id = ?`, def.Field(f.name).ID, d.ID, def.ID).Error; err != nil {
			return Scope{}, nil, err
		}
	}
	// Each row's data (collect_rows.data), from the values just stored.
	agg := `json_group_object(CAST(v.field_id AS TEXT), v.text_value)`
	if models.IsPostgres(db) {
		agg = `json_object_agg(v.field_id, v.text_value)::text`
	}
	if err := q.Exec(`UPDATE collect_rows SET data = COALESCE((SELECT `+agg+` FROM collect_values v WHERE v.row_id = collect_rows.id), '{}')
		WHERE record_id = ?`, def.ID).Error; err != nil {
		return Scope{}, nil, err
	}
	if models.IsPostgres(db) {
		if err := q.Exec(`SELECT setval(pg_get_serial_sequence('collect_rows', 'id'), (SELECT max(id) FROM collect_rows))`).Error; err != nil {
			return Scope{}, nil, err
		}
	}
	if err := q.Exec("ANALYZE").Error; err != nil {
		return Scope{}, nil, err
	}
	return d.Scope(), def, nil
}
