package models

import "gorm.io/gorm"

// Step 29: a Collect! row carries its values as one JSON object by field id (collect_rows.data), written in
// the transaction that writes collect_values, so reading a row by id is one index seek, as reading a fixed
// table's row is, instead of a join over its values (which stay the table filters and sorts use). Rows
// stored before are filled from their values here.
func migrateV29(tx *gorm.DB) error {
	agg := `json_group_object(CAST(v.field_id AS TEXT), v.text_value)`
	if tx.Dialector.Name() == "postgres" {
		agg = `json_object_agg(v.field_id, v.text_value)::text`
	}
	for _, stmt := range []string{
		`ALTER TABLE collect_rows ADD COLUMN data TEXT NOT NULL DEFAULT '{}'`,
		`UPDATE collect_rows SET data = COALESCE((SELECT ` + agg + ` FROM collect_values v WHERE v.row_id = collect_rows.id), '{}')`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
