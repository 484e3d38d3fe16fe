package collect_test

import (
	"context"
	"testing"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/collect"
)

// TestDefCache: a row read through the cache after its definition was deleted and made again under the same
// name is found under the new definition (the stale entry is dropped), and a missing row is still NotFound.
func TestDefCache(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		d, err := collect.CreateDatabase(ctx, db, "cv_cache")
		if err != nil {
			t.Fatal(err)
		}
		s := d.Scope()
		define := func(field string) *collect.RecordDef {
			def, err := collect.CreateRecordDef(ctx, db, s, collect.RecordDefInput{Name: "debtor", RowIDField: "de_rowid",
				Fields: []collect.FieldInput{{Name: field, Type: "text"}}})
			if err != nil {
				t.Fatal(err)
			}
			return def
		}
		cache := collect.NewDefCache()
		old := define("de_name")
		id, _, err := collect.CreateRow(ctx, db, s, old, collect.InsertOnly, map[string]string{"de_name": "Smith"})
		if err != nil {
			t.Fatal(err)
		}
		if _, got, err := cache.GetRowCached(ctx, db, s, "debtor", id, ""); err != nil || got["de_name"] != "Smith" {
			t.Fatalf("first read: %v %v", got, err)
		}
		if _, err := collect.DeleteRow(ctx, db, s, old, id); err != nil {
			t.Fatal(err)
		}
		if err := collect.DeleteRecordDef(ctx, db, s, old.ID); err != nil {
			t.Fatal(err)
		}
		fresh := define("de_city")
		id2, _, err := collect.CreateRow(ctx, db, s, fresh, collect.InsertOnly, map[string]string{"de_city": "Lahore"})
		if err != nil {
			t.Fatal(err)
		}
		def, got, err := cache.GetRowCached(ctx, db, s, "debtor", id2, "")
		if err != nil || def.ID != fresh.ID || got["de_city"] != "Lahore" || len(got) != 2 {
			t.Fatalf("read under the new definition: %v %v %v", def, got, err)
		}
		if _, _, err := cache.GetRowCached(ctx, db, s, "debtor", id, ""); models.KindOf(err) != models.NotFound {
			t.Fatalf("deleted row: %v", err)
		}
	})
}
