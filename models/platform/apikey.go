// Package platform holds the rows of Switchboard's own API (openapi/platform.yaml): its API keys and the
// do-not-call lists, with the check the dialer makes against them (DoNotCall).
package platform

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
)

// Key scopes: admin opens every platform operation (and the CIM API), events only the publishing of call
// events, cim only the Expertflow CIM API (handlers/cim).
const (
	ScopeAdmin  = "admin"
	ScopeEvents = "events"
	ScopeCIM    = "cim"
)

// APIKey is a row of api_keys (migration step 15). Times are unix seconds.
type APIKey struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	Name       string
	Scope      string
	Prefix     string
	Hash       string
	CreatedAt  int64
	LastUsedAt *int64
	RevokedAt  *int64
}

// TableName is the table of API keys.
func (APIKey) TableName() string { return "api_keys" }

// touchEvery bounds how often a key's last_used_at is written: a key used on every request writes at most
// once a minute.
const touchEvery = 60

var errBadKey = models.Errorf(models.Unauthenticated, "missing or invalid credentials (X-API-Key, or an ICTCore admin's bearer token)")

// CreateAPIKey stores a new key of the scope and answers its row and the key itself, which exists nowhere
// else: only its hash is stored. A name taken by a key in force is a Conflict.
func CreateAPIKey(ctx context.Context, db *gorm.DB, name, scope string) (*APIKey, string, error) {
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return nil, "", models.Errorf(models.Invalid, "a key's name must have 1 to 64 characters")
	}
	if scope != ScopeAdmin && scope != ScopeEvents && scope != ScopeCIM {
		return nil, "", models.Errorf(models.Invalid, "scope %q: want %s, %s or %s", scope, ScopeAdmin, ScopeEvents, ScopeCIM)
	}
	key, prefix, hash, err := auth.NewAPIKey()
	if err != nil {
		return nil, "", err
	}
	k := &APIKey{Name: name, Scope: scope, Prefix: prefix, Hash: hash, CreatedAt: time.Now().Unix()}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&APIKey{}).Where("name = ? AND revoked_at IS NULL", name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "an API key named %q exists already", name)
		}
		return tx.Create(k).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent create won the race
		return nil, "", models.Wrap(models.Conflict, err, "an API key named "+name+" exists already")
	}
	if err != nil {
		return nil, "", err
	}
	return k, key, nil
}

// ListAPIKeys answers one page of keys, revoked ones included, in id order.
func ListAPIKeys(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[APIKey], error) {
	return models.List(ctx, db.Model(&APIKey{}), "id", lq, func(k *APIKey) int64 { return k.ID })
}

// RevokeAPIKey revokes key id; revoking it again keeps the first revoked_at.
func RevokeAPIKey(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", time.Now().Unix())
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		var n int64
		if err := tx.Model(&APIKey{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return models.Errorf(models.NotFound, "API key %d not found", id)
		}
		return nil // revoked already
	})
}

// AuthenticateKey answers the key in force that key is, or Unauthenticated. It reads the store on every
// call, so a revoke takes effect at once on every node; last_used_at is written only when it is older
// than touchEvery.
func AuthenticateKey(ctx context.Context, db *gorm.DB, key string) (*APIKey, error) {
	if !auth.LooksLikeAPIKey(key) {
		return nil, errBadKey
	}
	var k APIKey
	err := db.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", auth.HashAPIKey(key)).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errBadKey
	}
	if err != nil {
		return nil, err
	}
	if now := time.Now().Unix(); k.LastUsedAt == nil || *k.LastUsedAt <= now-touchEvery {
		// In a transaction, so on SQLite it queues at the write gate instead of polling for the lock. The
		// condition keeps concurrent requests from writing it twice; a failure only leaves the time older.
		_ = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return tx.Exec("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
				now, k.ID, now-touchEvery).Error
		})
		k.LastUsedAt = &now
	}
	return &k, nil
}
