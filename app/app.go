// Package app assembles Switchboard from its parts: the store, the token secret, every vendor API and the
// HTTP server. cmd/switchboard and the tests build the service the same way, through Build.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/blob"
	"switchboard/handlers/cim"
	"switchboard/handlers/collect"
	"switchboard/handlers/ictcore"
	"switchboard/handlers/platform"
	"switchboard/handlers/ucontact"
	"switchboard/models"
	"switchboard/models/identity"
	"switchboard/server"
)

// Options configure Build. Zero values take the defaults.
type Options struct {
	DB       *gorm.DB
	Log      *slog.Logger
	Secret   string        // token-signing secret; empty: generated once and kept in the store
	TokenTTL time.Duration // 0: auth.DefaultTokenTTL
	Limits   server.Limits
	Logins   auth.GuardConfig // failed-login throttling and hashing bounds; zero values take the defaults
	Version  string
	// BlobDir is where the embedded store keeps media files (ICTCore documents, recordings, attachments);
	// empty: DefaultBlobDir. On Postgres the files live in the database and BlobDir is not used.
	BlobDir string
	// MediaMax bounds one media upload, in bytes; 0: DefaultMediaMax.
	MediaMax int64
}

// DefaultMediaMax is the media upload limit the ICTCore contract states (20 MiB).
const DefaultMediaMax = 20 << 20

// DefaultBlobDir is the media directory of the embedded store, beside switchboard.db.
const DefaultBlobDir = "switchboard-blobs"

// Build answers the whole HTTP surface over a migrated store.
func Build(ctx context.Context, o Options) (http.Handler, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ictcore.SweepImports(ctx, o.DB, o.Log) // CSV imports a killed process left behind
	apis, err := APIs(ctx, o)
	if err != nil {
		return nil, err
	}
	return server.New(server.Config{DB: o.DB, Log: o.Log, APIs: apis, Limits: o.Limits})
}

// APIs answers every vendor API over the store, as Build mounts them.
func APIs(ctx context.Context, o Options) ([]server.API, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	secret := o.Secret
	if secret == "" {
		var err error
		secret, err = models.GetOrCreateSetting(ctx, o.DB, "token_secret", func() (string, error) { return auth.RandomSecret(48) })
		if err != nil {
			return nil, fmt.Errorf("token secret: %w", err)
		}
	}
	tokens, err := auth.NewTokens(secret, o.TokenTTL)
	if err != nil {
		return nil, err
	}
	logins := auth.NewGuard(o.Logins) // one guard: a client throttled on one API is throttled on all
	blobs, err := openBlobs(ctx, o)
	if err != nil {
		return nil, err
	}
	mediaMax := o.MediaMax
	if mediaMax == 0 {
		mediaMax = DefaultMediaMax
	}
	return []server.API{
		ictcore.New(ictcore.Config{DB: o.DB, Tokens: tokens, Logins: logins, Log: o.Log, Blobs: blobs, MediaMax: mediaMax}),
		collect.New(),
		cim.New(),
		ucontact.New(),
		platform.New(o.DB, o.Version),
	}, nil
}

// openBlobs opens the media store and sweeps what a killed process left half written. A failed sweep is
// only logged: the next start sweeps again.
func openBlobs(ctx context.Context, o Options) (blob.Store, error) {
	dir := o.BlobDir
	if dir == "" {
		dir = DefaultBlobDir
	}
	blobs, err := blob.New(o.DB, dir)
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	if err := blobs.Sweep(ctx, blob.StaleAfter); err != nil {
		o.Log.WarnContext(ctx, "sweep of abandoned media uploads failed", "error", err)
	}
	return blobs, nil
}

// EnsureAdmin creates the first user, "admin", when the store has no user yet. Its password is
// password, or a generated one printed once to out.
func EnsureAdmin(ctx context.Context, db *gorm.DB, password string, out io.Writer) error {
	exists, err := identity.AnyUser(ctx, db)
	if err != nil || exists {
		return err
	}
	generated := password == ""
	if generated {
		if password, err = auth.RandomSecret(12); err != nil {
			return err
		}
	}
	err = AddUser(ctx, db, "admin", password, []string{"admin", "user"})
	if models.KindOf(err) == models.Conflict {
		return nil // another node starting at the same moment created it: its password stands
	}
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(out, "created user admin with password %s (shown once; set ADMIN_PASSWORD to choose it)\n", password)
	}
	return nil
}

// AddUser stores an active user with a hashed password.
func AddUser(ctx context.Context, db *gorm.DB, username, password string, roles []string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return identity.CreateUser(ctx, db, &identity.User{Username: username, PasswordHash: hash, Roles: strings.Join(roles, ","), Active: true})
}
