// Package auth holds Switchboard's credentials: password hashes, signed tokens, and permission checks.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"

	"golang.org/x/crypto/bcrypt"
)

// HashCost is bcrypt's work factor. Tests lower it to bcrypt.MinCost to stay fast.
var HashCost = bcrypt.DefaultCost

// ErrBadPassword means the password does not match the hash.
var ErrBadPassword = errors.New("password does not match")

// HashPassword answers a bcrypt hash of pw; the store never holds a password itself.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), HashCost)
	return string(h), err
}

// CheckPassword answers ErrBadPassword when pw does not match hash.
func CheckPassword(hash, pw string) error {
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
		return ErrBadPassword
	}
	return nil
}

// RandomSecret answers n random bytes, base64url-encoded: generated passwords and signing secrets.
func RandomSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
