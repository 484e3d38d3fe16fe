package models_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
)

// TestLowerFoldsUnicodeAlike: case-insensitive search answers the same on both stores, accents included
// (SQLite's own lower() folds ASCII only).
func TestLowerFoldsUnicodeAlike(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		t.Parallel()
		db := apitest.NewDB(t, kind)
		var got string
		if err := db.Raw("SELECT "+models.Lower(db, "?"), "ÉCOLE Ÿ ΣΑΣ").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if want := strings.ToLower("ÉCOLE Ÿ ΣΑΣ"); got != want || got != "école ÿ σασ" {
			t.Errorf("Lower(ÉCOLE Ÿ ΣΑΣ) = %q, want %q", got, want)
		}
		var isNull bool
		if err := db.Raw("SELECT " + models.Lower(db, "NULL") + " IS NULL").Scan(&isNull).Error; err != nil || !isNull {
			t.Errorf("Lower(NULL) IS NULL: %v %v", isNull, err)
		}

		// A TEMP table lives on one connection: hold one.
		err := db.Connection(func(tx *gorm.DB) error {
			tx = tx.Session(&gorm.Session{}) // each query below starts afresh, on the held connection
			if err := tx.Exec("CREATE TEMP TABLE fold_probe (name varchar(64))").Error; err != nil {
				return err
			}
			if err := tx.Exec("INSERT INTO fold_probe (name) VALUES ('ÉCOLE Primaire'), ('Collège'), ('ecole')").Error; err != nil {
				return err
			}
			for _, c := range []struct {
				search string
				want   []string
			}{
				{"écol", []string{"ÉCOLE Primaire"}}, // only the accented one: é is not e
				{"ÉCOLE", []string{"ÉCOLE Primaire"}},
				{"COLL", []string{"Collège"}},
				{"ÈGE", []string{"Collège"}},
				{"ecole", []string{"ecole"}},
			} {
				var names []string
				q := tx.Table("fold_probe").Where(models.Lower(tx, "name")+" LIKE ?", "%"+strings.ToLower(c.search)+"%")
				if err := q.Order("name").Pluck("name", &names).Error; err != nil {
					return err
				}
				if !slices.Equal(names, c.want) {
					t.Errorf("search %q found %q, want %q", c.search, names, c.want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestPreparedStatementCacheIsBounded: every distinct SQL text is prepared and kept, so a query per
// filter combination would grow the cache forever; Open caps it.
func TestPreparedStatementCacheIsBounded(t *testing.T) {
	const capacity = 500 // what Open sets
	apitest.EachKind(t, func(t *testing.T, kind string) {
		t.Parallel()
		db := apitest.NewDB(t, kind)
		stmts, ok := db.ConnPool.(*gorm.PreparedStmtDB)
		if !ok {
			t.Fatalf("ConnPool is %T, want *gorm.PreparedStmtDB (PrepareStmt off?)", db.ConnPool)
		}
		for i := range capacity + 100 {
			var n int
			if err := db.Raw(fmt.Sprintf("SELECT %d", i)).Scan(&n).Error; err != nil || n != i {
				t.Fatalf("query %d: %d, %v", i, n, err)
			}
		}
		keys := stmts.Stmts.Keys()
		if len(keys) > capacity {
			t.Fatalf("%d statements cached, want at most %d", len(keys), capacity)
		}
		if !slices.Contains(keys, fmt.Sprintf("SELECT %d", capacity+99)) {
			t.Errorf("the latest statement is not cached: %d keys", len(keys))
		}
	})
}
