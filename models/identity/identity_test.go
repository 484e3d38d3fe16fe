package identity_test

import (
	"context"
	"os"
	"testing"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/identity"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

func TestUniqueUsername(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		if err := identity.CreateUser(ctx, db, &identity.User{Username: "a", PasswordHash: "x", Active: true}); err != nil {
			t.Fatal(err)
		}
		err := identity.CreateUser(ctx, db, &identity.User{Username: "a", PasswordHash: "x", Active: true})
		if models.KindOf(err) != models.Conflict {
			t.Fatalf("duplicate username: %v", err)
		}
		if _, err := identity.FindUserByLogin(ctx, db, "nobody@example.com"); models.KindOf(err) != models.NotFound {
			t.Fatalf("unknown e-mail: %v", err)
		}
	})
}
