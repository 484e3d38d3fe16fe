package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// API keys: "sb_" + base64url of 32 random bytes. The store keeps only HashAPIKey of a key, never the key.
// A key is 256 bits of randomness, not a password a person chose, so a fast hash is right: nobody can
// guess it back from the hash, and a slow one (bcrypt) would only cost every request; and since keys are
// looked up by their hash, nothing is compared in variable time against a secret.
const (
	apiKeyTag      = "sb_"
	apiKeyBytes    = 32
	apiKeyLen      = len(apiKeyTag) + 43 // 32 bytes in unpadded base64
	apiKeyShownLen = len(apiKeyTag) + 6  // the prefix lists show: 36 of the 256 bits
)

// NewAPIKey answers a fresh key, the prefix lists show of it, and its hash.
func NewAPIKey() (key, prefix, hash string, err error) {
	r, err := RandomSecret(apiKeyBytes)
	if err != nil {
		return "", "", "", err
	}
	key = apiKeyTag + r
	return key, key[:apiKeyShownLen], HashAPIKey(key), nil
}

// HashAPIKey answers the SHA-256 of a key, in hex: what the store keeps and looks keys up by.
func HashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// LooksLikeAPIKey tells whether s has the shape of a key, so garbage costs no store lookup.
func LooksLikeAPIKey(s string) bool {
	return len(s) == apiKeyLen && strings.HasPrefix(s, apiKeyTag)
}

// Bearer answers the credentials of an "Authorization: Bearer <credentials>" header value (the scheme in
// any case, as RFC 7235 allows).
func Bearer(header string) (string, bool) {
	const p = "bearer "
	if len(header) > len(p) && strings.EqualFold(header[:len(p)], p) {
		return strings.TrimSpace(header[len(p):]), true
	}
	return "", false
}
