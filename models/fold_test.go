package models_test

import (
	"context"
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

// TestPreparedStatementsAreBounded: a query per filter combination must not grow a statement cache
// forever. gorm's own cache is off (see Open); on Postgres, pgx's per-connection cache is capped.
func TestPreparedStatementsAreBounded(t *testing.T) {
	const capacity = 512 // pgx's default statement cache
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		if _, ok := db.ConnPool.(*gorm.PreparedStmtDB); ok {
			t.Fatal("gorm's shared statement cache is on")
		}
		if kind != "postgres" {
			return
		}
		ctx := context.Background()
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := sqlDB.Conn(ctx) // one session: pg_prepared_statements is per session
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := range capacity + 100 {
			var n int
			if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
				t.Fatalf("query %d: %d, %v", i, n, err)
			}
		}
		var prepared int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&prepared); err != nil {
			t.Fatal(err)
		}
		if prepared == 0 || prepared > capacity+1 {
			t.Fatalf("%d statements prepared in the session, want between 1 and %d", prepared, capacity+1)
		}
	})
}
