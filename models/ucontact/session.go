package ucontact

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/identity"
)

// Session is a row of ucontact_sessions: one issued API key, by its hash; EndedAt is set by EndSession.
type Session struct {
	ID        int64 `gorm:"primaryKey;column:id"`
	UserID    int64
	KeyHash   string
	CreatedAt int64
	EndedAt   *int64
}

// TableName is the table of uContact sessions.
func (Session) TableName() string { return "ucontact_sessions" }

// Caller is who an API key stands for.
type Caller struct {
	User      User
	SessionID int64
}

// Sessions logs uContact users in and checks their keys.
type Sessions struct {
	db    *gorm.DB
	guard *auth.Guard
}

// NewSessions builds the sessions of the store, with the server's one login guard.
func NewSessions(db *gorm.DB, guard *auth.Guard) *Sessions { return &Sessions{db: db, guard: guard} }

var errCredentials = models.Errorf(models.Unauthenticated, "invalid credentials")

// Login checks a password through the login guard (an unknown name costs the same work as a wrong
// password and counts as a failure; failures are throttled per name and per client address) and issues
// a new API key. Only a user of the role logs in: the other role's name is refused like a wrong password.
// An agent's login marks it logged in. Errors are kinded: Unauthenticated, Throttled (with RetryAfter),
// Busy.
func (s *Sessions) Login(ctx context.Context, name, password, addr, role string) (*User, string, error) {
	u, err := FindUser(ctx, s.db, name)
	found := err == nil
	if err != nil && models.KindOf(err) != models.NotFound {
		return nil, "", err
	}
	hash := ""
	if found {
		hash = u.PasswordHash
	}
	// The guard's throttle counts per "ucontact/<name>": failing here does not lock an ICTCore login out.
	if ok, err := identity.GuardedCheck(ctx, s.guard, "ucontact/"+name, addr, hash, found, password); err != nil {
		return nil, "", err
	} else if !ok || !found || u.Role != role {
		return nil, "", errCredentials
	}
	key, keyHash, err := newKey(u.Name)
	if err != nil {
		return nil, "", err
	}
	now := time.Now().Unix()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Session{UserID: u.ID, KeyHash: keyHash, CreatedAt: now}).Error; err != nil {
			return err
		}
		if role != RoleAgent {
			return nil
		}
		res := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"logged_in": true, "login_at": now, "updated_at": now})
		if res.Error == nil && res.RowsAffected == 0 {
			return models.Errorf(models.Conflict, "agent %q was deleted meanwhile", u.Name)
		}
		return res.Error
	})
	if err != nil {
		return nil, "", err
	}
	if role == RoleAgent {
		u.LoggedIn, u.LoginAt = true, now
	}
	return u, key, nil
}

// Authenticate answers the caller an API key stands for: a key in force (not ended) of a user that still
// exists. It reads the store on every call, so an ended key answers 401 at once on every node.
func (s *Sessions) Authenticate(ctx context.Context, key string) (*Caller, error) {
	if !looksLikeKey(key) {
		return nil, errBadKey
	}
	var row struct {
		SessionID int64
		User      User `gorm:"embedded;embeddedPrefix:u_"`
	}
	res := s.db.WithContext(ctx).Raw(`SELECT s.id AS session_id, u.id AS u_id, u.name AS u_name, u.role AS u_role,
		u.fullname AS u_fullname, u.email AS u_email, u.phone AS u_phone, u.context AS u_context, u.logged_in AS u_logged_in,
		u.created_at AS u_created_at, u.updated_at AS u_updated_at
		FROM ucontact_sessions s JOIN ucontact_users u ON u.id = s.user_id
		WHERE s.key_hash = ? AND s.ended_at IS NULL`, hashKey(key)).Scan(&row)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errBadKey
	}
	return &Caller{User: row.User, SessionID: row.SessionID}, nil
}

var errBadKey = models.Errorf(models.Unauthenticated, "missing, unknown or ended API key (Authorization: Basic <APIKey>)")

// EndSession disables key, which must be a key in force issued to the user named name: from then on it
// answers 401. A key that is unknown, ended already or another user's is Unauthenticated, and nothing
// changes.
func (s *Sessions) EndSession(ctx context.Context, name, key string) error {
	if !looksLikeKey(key) {
		return errEndSession
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Session{}).
			Where("key_hash = ? AND ended_at IS NULL AND user_id IN (SELECT id FROM ucontact_users WHERE name = ?)", hashKey(key), name).
			Update("ended_at", time.Now().Unix())
		if res.Error == nil && res.RowsAffected == 0 {
			return errEndSession
		}
		return res.Error
	})
}

var errEndSession = models.Errorf(models.Unauthenticated, "token is not a key in force of that user")

// AgentLogoff marks the agent named name logged off and keeps the interface and the message it logged off
// with. An agent not logged in is logged off all the same; an unknown agent is NotFound.
func AgentLogoff(ctx context.Context, db *gorm.DB, name, iface, message string) error {
	now := time.Now().Unix()
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("name = ? AND role = ?", name, RoleAgent).Updates(map[string]any{
			"logged_in": false, "logoff_at": now, "interface": iface, "logoff_message": message, "updated_at": now})
		if res.Error == nil && res.RowsAffected == 0 {
			return models.Errorf(models.NotFound, "agent %q not found", name)
		}
		return res.Error
	})
}

// newKey answers a new API key, base64 of `name:uuid` as the vendor's keys are (so it is valid HTTP Basic on
// the wire), and its hash: what the store keeps. The uuid's 122 random bits make it unguessable, so a fast
// hash is right (see auth.HashAPIKey).
func newKey(name string) (key, hash string, err error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	uuid := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	key = base64.StdEncoding.EncodeToString([]byte(name + ":" + uuid))
	return key, hashKey(key), nil
}

// hashKey is what the store keeps of a key: its SHA-256, in hex.
func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// looksLikeKey tells whether s has the shape of a key (base64 of `name:uuid`), so garbage costs no store
// lookup.
func looksLikeKey(s string) bool {
	if len(s) < 8 || len(s) > 512 {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	return err == nil && strings.Contains(string(raw), ":")
}
