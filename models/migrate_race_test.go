package models_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
)

// TestConcurrentMigrate: nodes that start together on one empty store, each with its own connection pool
// as separate processes would have, all migrate without error, and every step is applied exactly once.
func TestConcurrentMigrate(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		want := appliedVersions(t, apitest.NewDB(t, kind)) // what a lone node records
		if len(want) == 0 {
			t.Fatal("a lone node recorded no migration")
		}
		// Several rounds: one round may miss the window by luck.
		for round := range 3 {
			t.Run(fmt.Sprint("round", round), func(t *testing.T) {
				url := apitest.EmptyStoreURL(t, kind)
				const nodes = 6
				dbs := make([]*gorm.DB, nodes)
				for i := range dbs {
					db, err := models.Open(url)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = models.Close(db) })
					// Connected before the start line, so the nodes reach Migrate together.
					if err := models.Ping(context.Background(), db); err != nil {
						t.Fatal(err)
					}
					dbs[i] = db
				}
				applied := make([]int, nodes)
				errs := make([]error, nodes)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, db := range dbs {
					wg.Go(func() {
						<-start
						applied[i], errs[i] = models.Migrate(context.Background(), db)
					})
				}
				close(start)
				wg.Wait()
				total := 0
				for i, err := range errs {
					if err != nil {
						t.Errorf("node %d: %v", i, err)
					}
					total += applied[i]
				}
				if total != len(want) {
					t.Errorf("nodes applied %d steps between them (%v), want %d", total, applied, len(want))
				}
				if got := appliedVersions(t, dbs[0]); !slices.Equal(got, want) {
					t.Errorf("schema_migrations holds %v, want %v", got, want)
				}
			})
		}
	})
}

func appliedVersions(t *testing.T, db *gorm.DB) []int {
	t.Helper()
	var vs []int
	if err := db.Table("schema_migrations").Order("version").Pluck("version", &vs).Error; err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	return vs
}
