package models_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"switchboard/apitest"
	"switchboard/models"
)

// TestStoreErrorsHaveKinds: unique and foreign-key violations from either store, raw SQL included, are
// conflicts (never a 500); a closed store is busy (503, never a 500 or a 401).
func TestStoreErrorsHaveKinds(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		for _, q := range []string{
			`INSERT INTO settings (name, value) VALUES ('k', 'v')`,
			// The schema's own tables keep no foreign key a test can trip (contact_links dropped theirs),
			// so the test brings one.
			`CREATE TABLE fk_parent (id integer PRIMARY KEY)`,
			`CREATE TABLE fk_child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES fk_parent (id))`,
		} {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		for name, err := range map[string]error{
			"unique, raw SQL": db.Exec(`INSERT INTO settings (name, value) VALUES ('k', 'w')`).Error,
			"foreign key":     db.Exec(`INSERT INTO fk_child (id, parent_id) VALUES (1, 42)`).Error,
		} {
			if got := models.KindOf(err); got != models.Conflict {
				t.Errorf("%s: %v is %v, want conflict", name, err, got)
			}
		}
		if err := models.Close(db); err != nil {
			t.Fatal(err)
		}
		err := db.WithContext(ctx).Exec(`SELECT 1`).Error
		if got := models.KindOf(err); got != models.Busy || models.RetryAfter(err) <= 0 {
			t.Errorf("closed store: %v is %v", err, got)
		}
	})
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want models.Kind
	}{
		{nil, models.Internal},
		{errors.New("boom"), models.Internal},
		{fmt.Errorf("wrapped: %w", models.Errorf(models.NotFound, "contact 1 not found")), models.NotFound},
		{&pgconn.PgError{Code: "23505"}, models.Conflict},
		{&pgconn.PgError{Code: "40P01"}, models.Busy},
		{&pgconn.PgError{Code: "53300"}, models.Busy},
		{&pgconn.PgError{Code: "22001"}, models.Internal},
		{&http.MaxBytesError{Limit: 10}, models.TooLarge},
		{context.Canceled, models.Canceled},
		{context.DeadlineExceeded, models.Busy},
	} {
		if got := models.KindOf(tc.err); got != tc.want {
			t.Errorf("KindOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
