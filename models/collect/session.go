package collect

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/identity"
)

// Token lifetimes (openapi/collect.yaml): an access token lives an hour, a refresh token a day.
const (
	AccessTTL  = time.Hour
	RefreshTTL = 24 * time.Hour
)

// Tokens are opaque random strings with a tag saying which is which; the store keeps only their SHA-256,
// in the session row that also names the database and the operator, so a token is bound to its database
// and a revocation (logout, refresh, a new password, a deactivation) holds on every node at once.
const (
	accessTag  = "cat_"
	refreshTag = "crt_"
	tokenBytes = 32
)

// session is a row of collect_sessions: one login, with the hashes of its current tokens.
type session struct {
	ID               int64 `gorm:"primaryKey;column:id"`
	DatabaseID       int64
	OperatorID       int64
	AccessHash       string
	RefreshHash      string
	PrevRefreshHash  string // the refresh token rotated away last: presented again, it ends the session
	AccessExpiresAt  int64
	RefreshExpiresAt int64
	CreatedAt        int64
}

func (session) TableName() string { return "collect_sessions" }

// Tokens are what a login or a refresh answers.
type Tokens struct {
	Access, Refresh string
}

// Caller is who an access token stands for: the operator, its database and its session.
type Caller struct {
	Operator  Operator
	Database  Database
	SessionID int64
}

// Scope answers the caller's database scope: every query the caller's request makes goes through it.
func (c *Caller) Scope() Scope { return c.Database.Scope() }

// Sessions logs operators in and checks their tokens. Now is the clock token lifetimes are measured by.
type Sessions struct {
	db    *gorm.DB
	guard *auth.Guard
	now   func() time.Time
	keep  func() bool // whether lookups may be kept now (nil: never)
	kept  kept
	gen   *atomic.Uint64 // the store's revocations (generationOf)
}

// KeepLookups has the sessions keep their lookups between requests (revocation.go): on the embedded store
// always, on Postgres while r hears the other nodes' revocations (r nil: never).
func (s *Sessions) KeepLookups(r *Revocations) {
	s.gen = generationOf(s.db)
	switch {
	case !models.IsPostgres(s.db):
		s.keep = func() bool { return true }
	case r != nil:
		s.keep = r.listening.Load
	}
}

// lookup is caller by access token hash, through the kept lookups when they may be used.
func (s *Sessions) lookup(ctx context.Context, hash string) (*found, error) {
	if s.keep == nil || !s.keep() {
		return s.caller(ctx, "access_hash", hash)
	}
	gen := s.gen.Load() // before the read: a revocation during it makes what it read stale
	if f, ok := s.kept.get(hash, gen); ok {
		return f, nil
	}
	f, err := s.caller(ctx, "access_hash", hash)
	if err == nil && f != nil {
		s.kept.put(hash, f, gen)
	}
	return f, err
}

// NewSessions builds the sessions of the store; now nil is time.Now.
func NewSessions(db *gorm.DB, guard *auth.Guard, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{db: db, guard: guard, now: now}
}

var errNotAuthorized = models.Errorf(models.Unauthenticated, "not authorized: wrong op_id or op_password, or unknown database")

func notAuthorized(why string) error {
	return models.Errorf(models.Unauthenticated, "not authorized: %s", why)
}

// Login checks an operator's password in the database named dbName through the login guard (an unknown
// database or operator costs the same work as a wrong password and counts as a failure), and starts a
// session. Errors are kinded: Unauthenticated, Throttled (with RetryAfter), Busy.
func (s *Sessions) Login(ctx context.Context, dbName, opID, password, addr string) (*Operator, Tokens, error) {
	var op *Operator
	d, err := FindDatabase(ctx, s.db, dbName)
	if err == nil {
		op, err = FindOperator(ctx, s.db, d.Scope(), opID)
	}
	if err != nil && models.KindOf(err) != models.NotFound {
		return nil, Tokens{}, err
	}
	hash := ""
	if op != nil {
		hash = op.PasswordHash
	}
	// The guard's per-login throttle counts per database and op_id: OWN failing in one database does not
	// lock OWN out of another.
	if ok, err := identity.GuardedCheck(ctx, s.guard, "collect/"+dbName+"/"+opID, addr, hash, op != nil, password); err != nil {
		return nil, Tokens{}, err
	} else if !ok {
		return nil, Tokens{}, errNotAuthorized
	}
	if op == nil || !op.Active {
		return nil, Tokens{}, errNotAuthorized
	}
	toks, access, refresh, err := newTokens()
	if err != nil {
		return nil, Tokens{}, err
	}
	now := s.now()
	row := &session{DatabaseID: d.ID, OperatorID: op.ID, AccessHash: access, RefreshHash: refresh,
		AccessExpiresAt: now.Add(AccessTTL).Unix(), RefreshExpiresAt: now.Add(RefreshTTL).Unix(), CreatedAt: now.Unix()}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The operator's sessions whose refresh token has expired are of no more use: each login sweeps them.
		if err := d.Scope().Query(ctx, tx, &session{}).Where("operator_id = ? AND refresh_expires_at <= ?", op.ID, now.Unix()).
			Delete(&session{}).Error; err != nil {
			return err
		}
		return tx.Create(row).Error
	})
	if err != nil {
		return nil, Tokens{}, err
	}
	return op, toks, nil
}

// Refresh trades a refresh token for new tokens (rotation: the session's old access and refresh tokens stop
// working). dbName must be the session's database.
func (s *Sessions) Refresh(ctx context.Context, dbName, refreshToken string) (*Operator, Tokens, error) {
	if !strings.HasPrefix(refreshToken, refreshTag) {
		return nil, Tokens{}, notAuthorized("invalid refresh token")
	}
	old := hashToken(refreshToken)
	now := s.now()
	c, err := s.caller(ctx, "refresh_hash", old)
	if err != nil {
		return nil, Tokens{}, err
	}
	if c == nil {
		return nil, Tokens{}, s.replayed(ctx, old)
	}
	if c.expiresAt(refreshKind) <= now.Unix() {
		return nil, Tokens{}, notAuthorized("invalid, expired or revoked refresh token")
	}
	if err := c.check(dbName); err != nil {
		return nil, Tokens{}, err
	}
	toks, access, refresh, err := newTokens()
	if err != nil {
		return nil, Tokens{}, err
	}
	var n int64
	err = revoking(ctx, s.db, func(tx *gorm.DB) error { // the old access token stops working
		res := c.Scope().Query(ctx, tx, &session{}).Where("id = ? AND refresh_hash = ?", c.SessionID, old).
			Updates(map[string]any{"access_hash": access, "refresh_hash": refresh, "prev_refresh_hash": old,
				"access_expires_at": now.Add(AccessTTL).Unix(), "refresh_expires_at": now.Add(RefreshTTL).Unix()})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return nil, Tokens{}, err
	}
	if n == 0 { // a concurrent refresh or a logout came first
		return nil, Tokens{}, notAuthorized("invalid, expired or revoked refresh token")
	}
	return &c.Operator, toks, nil
}

// replayed answers the error of a refresh token no session holds. One a session rotated away last has been
// traded already: presented again it is replayed or stolen, so the session ends (its current tokens stop
// working on every node) and its operator logs in again, as OAuth's refresh-token rotation prescribes.
func (s *Sessions) replayed(ctx context.Context, hash string) error {
	var ended int64
	err := revoking(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Where("prev_refresh_hash = ?", hash).Delete(&session{})
		ended = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return err
	}
	if ended > 0 {
		return notAuthorized("refresh token already used: the session is ended, log in again")
	}
	return notAuthorized("invalid, expired or revoked refresh token")
}

// Authenticate answers the caller an access token stands for, on a request to the database named dbName.
// It reads the store on every call, so a revoked session answers 401 at once on every node.
func (s *Sessions) Authenticate(ctx context.Context, dbName, accessToken string) (*Caller, error) {
	if strings.HasPrefix(accessToken, refreshTag) {
		// The vendor's document calls the refresh token "the Bearer token" (review R16): say which to send.
		return nil, notAuthorized("a refresh_token is not a bearer token: send the access_token, or trade the refresh_token at /api/v1/auth/refresh")
	}
	if !strings.HasPrefix(accessToken, accessTag) {
		return nil, notAuthorized("invalid access token")
	}
	c, err := s.lookup(ctx, hashToken(accessToken))
	if err != nil {
		return nil, err
	}
	if c == nil || c.expiresAt(accessKind) <= s.now().Unix() {
		return nil, notAuthorized("invalid, expired or revoked access token")
	}
	if err := c.check(dbName); err != nil {
		return nil, err
	}
	caller := c.Caller // a copy: the lookup may be kept
	return &caller, nil
}

// AuthenticateAny is Authenticate for a client that cannot name its database (the WebSocket's key
// handshake, R15): the access token is bound to one database, which the caller then belongs to.
func (s *Sessions) AuthenticateAny(ctx context.Context, accessToken string) (*Caller, error) {
	if !strings.HasPrefix(accessToken, accessTag) {
		return s.Authenticate(ctx, DefaultDatabase, accessToken) // the same refusals, worded the same
	}
	c, err := s.lookup(ctx, hashToken(accessToken))
	if err != nil {
		return nil, err
	}
	if c == nil || c.expiresAt(accessKind) <= s.now().Unix() {
		return nil, notAuthorized("invalid, expired or revoked access token")
	}
	if err := c.check(c.Database.Name); err != nil {
		return nil, err
	}
	caller := c.Caller
	return &caller, nil
}

// Logout ends the caller's session: its access and refresh tokens answer 401 from then on.
func (s *Sessions) Logout(ctx context.Context, c *Caller) error {
	return revoking(ctx, s.db, func(tx *gorm.DB) error {
		return c.Scope().Query(ctx, tx, &session{}).Where("id = ?", c.SessionID).Delete(&session{}).Error
	})
}

// endSessions deletes every session of operator id (inside the caller's transaction).
func endSessions(ctx context.Context, tx *gorm.DB, s Scope, operatorID int64) error {
	return s.Query(ctx, tx, &session{}).Where("operator_id = ?", operatorID).Delete(&session{}).Error
}

type tokenKind int

const (
	accessKind tokenKind = iota
	refreshKind
)

// found is a session read with its database and operator.
type found struct {
	Caller
	accessExp, refreshExp int64
}

func (f *found) expiresAt(k tokenKind) int64 {
	if k == accessKind {
		return f.accessExp
	}
	return f.refreshExp
}

// check holds the session to the request's database and to its operator being active.
func (f *found) check(dbName string) error {
	if f.Database.Name != dbName {
		return notAuthorized("the token was not issued for database " + dbName)
	}
	if !f.Operator.Active {
		return notAuthorized("operator " + f.Operator.OpID + " is not active")
	}
	return nil
}

// caller reads the session whose column (access_hash or refresh_hash) is hash, with its database and
// operator, in one query; nil when there is none. This lookup is what establishes a request's Scope, so it
// is the one Collect! query that does not start from one.
func (s *Sessions) caller(ctx context.Context, column, hash string) (*found, error) {
	queries := callerByAccess
	if column == "refresh_hash" {
		queries = callerByRefresh
	}
	query := queries[0]
	if models.IsPostgres(s.db) {
		query = queries[1]
	}
	var f found
	o := &f.Operator
	err := models.ScanRow(ctx, s.db.WithContext(ctx), query, []any{hash}, &f.SessionID, &f.Database.ID, &f.accessExp, &f.refreshExp,
		&f.Database.Name, &f.Database.CreatedAt, &o.ID, &o.DatabaseID, &o.OpID, &o.OpName, &o.OpLevel, &o.OpFunction,
		&o.Active, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// The session lookups of every authenticated request, fixed statements (models.ScanRow: prepared once, on
// Postgres read on pgx directly): the session, its database and its operator in one round trip.
const (
	callerSelect = `SELECT s.id, s.database_id, s.access_expires_at, s.refresh_expires_at, d.name, d.created_at,
		o.id, o.database_id, o.op_id, o.op_name, o.op_level, o.op_function, o.active, o.created_at, o.updated_at
		FROM collect_sessions s
		JOIN collect_databases d ON d.id = s.database_id
		JOIN collect_operators o ON o.id = s.operator_id AND o.database_id = s.database_id`
)

// callerByAccess and callerByRefresh spell each lookup for SQLite and for Postgres, fixed once.
var (
	callerByAccess  = [2]string{callerSelect + ` WHERE s.access_hash = ?`, callerSelect + ` WHERE s.access_hash = $1`}
	callerByRefresh = [2]string{callerSelect + ` WHERE s.refresh_hash = ?`, callerSelect + ` WHERE s.refresh_hash = $1`}
)

// newTokens answers a fresh pair of tokens and their hashes.
func newTokens() (t Tokens, accessHash, refreshHash string, err error) {
	a, err := auth.RandomSecret(tokenBytes)
	if err != nil {
		return t, "", "", err
	}
	r, err := auth.RandomSecret(tokenBytes)
	if err != nil {
		return t, "", "", err
	}
	t = Tokens{Access: accessTag + a, Refresh: refreshTag + r}
	return t, hashToken(t.Access), hashToken(t.Refresh), nil
}

// hashToken is what the store keeps of a token: its SHA-256 in hex. A token is 256 random bits, so a fast
// hash is right (see auth.HashAPIKey).
func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}
