package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestAPIKey(t *testing.T) {
	key, prefix, hash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, "sb_"))
	if !strings.HasPrefix(key, "sb_") || err != nil || len(raw) != 32 || !LooksLikeAPIKey(key) {
		t.Fatalf("key %q: want sb_ and 32 bytes of base64url (%v)", key, err)
	}
	if prefix != key[:9] || hash != HashAPIKey(key) || len(hash) != 64 || strings.Contains(hash, key[3:]) {
		t.Fatalf("prefix %q hash %q of %q", prefix, hash, key)
	}
	other, _, otherHash, _ := NewAPIKey()
	if other == key || otherHash == hash {
		t.Fatal("two keys alike")
	}
	// SHA-256 of "sb_test", hex: a stored hash must stay what earlier releases stored.
	if got := HashAPIKey("sb_test"); got != "40ac2e4f485212b6bf369c9d24c98c84453ab279fbc2fb5b3fca92fb03d5731b" {
		t.Fatalf("hash %q", got)
	}
	for _, s := range []string{"", "sb_", key[:len(key)-1], "xx" + key[2:], key + "A"} {
		if LooksLikeAPIKey(s) {
			t.Errorf("%q taken for a key", s)
		}
	}
}

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	} {
		if got, ok := Bearer(tc.header); got != tc.want || ok != tc.ok {
			t.Errorf("Bearer(%q) = %q, %v", tc.header, got, ok)
		}
	}
}
