package identity_test

import (
	"context"
	"sync"
	"testing"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/identity"
)

// TestLastAdminRace: two requests demoting the last two active admins at once never both succeed; the
// other is refused as a conflict (not a deadlock or a busy store).
func TestLastAdminRace(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		var ids [2]int64
		for i, name := range []string{"a", "b"} {
			u := &identity.User{Username: name, PasswordHash: "x", Roles: "admin,user", Active: true}
			if err := identity.CreateUser(ctx, db, u); err != nil {
				t.Fatal(err)
			}
			ids[i] = u.ID
		}
		for round := range 10 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range ids {
				wg.Go(func() {
					_, errs[i] = identity.UpdateUser(ctx, db, identity.AllUsers, id, func(u *identity.User) error {
						if round%2 == 0 {
							u.SetRole(identity.AdminRole, false)
						} else {
							u.Active = false
						}
						return nil
					})
				})
			}
			wg.Wait()
			failed := -1
			for i, err := range errs {
				switch {
				case err == nil:
				case models.KindOf(err) == models.Conflict && failed < 0:
					failed = i
				default:
					t.Fatalf("round %d: %v", round, errs)
				}
			}
			if failed < 0 {
				t.Fatalf("round %d: both admins demoted", round)
			}
			for _, id := range ids { // both admins again
				if _, err := identity.UpdateUser(ctx, db, identity.AllUsers, id, func(u *identity.User) error {
					u.SetRole(identity.AdminRole, true)
					u.Active = true
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		u, err := identity.GetUser(ctx, db, identity.AllUsers, ids[0])
		if err != nil || u.Roles != "user,admin" {
			t.Fatalf("roles after the rounds: %+v %v", u, err)
		}
	})
}
