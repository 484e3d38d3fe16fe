package auth

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func init() { HashCost = bcrypt.MinCost }

func TestCheckCache(t *testing.T) {
	c := newCheckCache(time.Minute, 2)
	c.put("hash-1", "right")
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{"hash-1", "right", true},
		{"hash-1", "wrong", false},
		{"hash-2", "right", false}, // a changed password has a new hash: the old entry does not apply
	} {
		if got := c.hit(tc.hash, tc.pw); got != tc.want {
			t.Errorf("hit(%q, %q) = %v", tc.hash, tc.pw, got)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, err := NewTokens("0123456789abcdef0123456789abcdef", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tok.Issue(7, "ada", true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tok.Parse(s)
	if err != nil || c.UserID != 7 || c.Username != "ada" || c.IsAdmin != "1" {
		t.Fatalf("parse: %+v %v", c, err)
	}
	otherKey, _ := NewTokens("another-secret-another-secret-xx", time.Hour)
	if _, err := otherKey.Parse(s); err == nil {
		t.Fatal("token signed with another key accepted")
	}
	expired, _ := NewTokens("0123456789abcdef0123456789abcdef", -time.Hour)
	expired.ttl = -time.Minute
	old, _ := expired.Issue(7, "ada", false)
	if _, err := tok.Parse(old); err == nil {
		t.Fatal("expired token accepted")
	}
	if _, err := NewTokens("short", time.Hour); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestPrincipalInContext(t *testing.T) {
	user := &Principal{Roles: []string{"user"}}
	ctx := WithPrincipal(context.Background(), user)
	if PrincipalFrom(ctx) != user || PrincipalFrom(context.Background()) != nil {
		t.Fatal("principal not carried by context")
	}
}
