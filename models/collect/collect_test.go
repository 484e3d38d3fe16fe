package collect_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/collect"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

func ptr[T any](v T) *T { return &v }

// TestScope: every operator query through a Scope sees only its database's rows, whatever id it is given.
func TestScope(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		a, err := collect.CreateDatabase(ctx, db, "cv_a")
		if err != nil {
			t.Fatal(err)
		}
		b, err := collect.CreateDatabase(ctx, db, "cv_b")
		if err != nil {
			t.Fatal(err)
		}
		newOp := func(d *collect.Database, opID string) *collect.Operator {
			o, err := collect.CreateOperator(ctx, db, d.Scope(), collect.OperatorFields{OpID: ptr(opID), Password: ptr("pw")})
			if err != nil {
				t.Fatalf("operator %s of %s: %v", opID, d.Name, err)
			}
			return o
		}
		ownA, ownB, salB := newOp(a, "OWN"), newOp(b, "OWN"), newOp(b, "SAL")
		if ownA.DatabaseID != a.ID || ownB.DatabaseID != b.ID {
			t.Fatalf("rows not stamped with their database: %+v %+v", ownA, ownB)
		}

		var n int64
		if err := a.Scope().Query(ctx, db, &collect.Operator{}).Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("cv_a counts %d operators (%v), want 1", n, err)
		}
		if err := (collect.Scope{}).Query(ctx, db, &collect.Operator{}).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("the zero scope counts %d operators (%v), want 0", n, err)
		}
		page, err := collect.ListOperators(ctx, db, b.Scope(), models.ListQuery{})
		if err != nil || len(page.Items) != 2 || page.Items[0].ID != ownB.ID || page.Items[1].ID != salB.ID {
			t.Fatalf("cv_b lists %+v (%v)", page.Items, err)
		}
		if o, err := collect.FindOperator(ctx, db, a.Scope(), "SAL"); models.KindOf(err) != models.NotFound {
			t.Fatalf("cv_a finds cv_b's SAL: %+v %v", o, err)
		}
		if o, err := collect.FindOperator(ctx, db, b.Scope(), "OWN"); err != nil || o.ID != ownB.ID {
			t.Fatalf("cv_b's OWN: %+v %v", o, err)
		}

		// Another database's operator id is NotFound to get, change and delete, and stays as it was.
		if _, err := collect.GetOperator(ctx, db, a.Scope(), salB.ID); models.KindOf(err) != models.NotFound {
			t.Fatalf("get across databases: %v", err)
		}
		if _, err := collect.UpdateOperator(ctx, db, a.Scope(), salB.ID, collect.OperatorFields{OpName: ptr("stolen")}); models.KindOf(err) != models.NotFound {
			t.Fatalf("update across databases: %v", err)
		}
		if err := collect.DeleteOperator(ctx, db, a.Scope(), salB.ID); models.KindOf(err) != models.NotFound {
			t.Fatalf("delete across databases: %v", err)
		}
		if o, err := collect.GetOperator(ctx, db, b.Scope(), salB.ID); err != nil || o.OpName != "" {
			t.Fatalf("cv_b's SAL after the attempts: %+v %v", o, err)
		}

		// The WHERE is qualified by the query's own table, so a join cannot make it ambiguous.
		sql := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
			var ops []collect.Operator
			return a.Scope().Query(ctx, tx, &collect.Operator{}).Where("op_id = ?", "OWN").Find(&ops)
		})
		if !strings.Contains(sql, `collect_operators`+q(kind)+`.`+q(kind)+`database_id`) {
			t.Fatalf("scope not qualified: %s", sql)
		}

		// A database with operators is not deleted.
		if err := collect.DeleteDatabase(ctx, db, a.ID); models.KindOf(err) != models.Conflict {
			t.Fatalf("delete cv_a with an operator: %v", err)
		}
	})
}

// q is how GORM quotes identifiers on a store kind: backticks on SQLite, double quotes on Postgres.
func q(kind string) string {
	if kind == "sqlite" {
		return "`"
	}
	return `"`
}
