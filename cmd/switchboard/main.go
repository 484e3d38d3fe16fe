// Command switchboard serves five contact-center APIs from one store.
//
//	switchboard serve            start the server (default command)
//	switchboard migrate          apply schema migrations and exit
//	switchboard user add NAME [admin]   add a user (password from SWITCHBOARD_USER_PASSWORD or generated)
//	switchboard version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"gorm.io/gorm"

	"switchboard/app"
	"switchboard/auth"
	"switchboard/models"
	"switchboard/server"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	log := newLogger(getenv, stdout)
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "serve", "migrate", "user":
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, user add, version)", cmd)
	}

	db, err := models.Open(getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer models.Close(db)
	n, err := models.Migrate(ctx, db)
	if err != nil {
		return err
	}
	log.Info("store ready", "migrations_applied", n, "dialect", db.Dialector.Name())

	switch cmd {
	case "migrate":
		return nil
	case "user":
		return addUser(ctx, args[2:], getenv, stdout, db)
	}
	if err := app.EnsureAdmin(ctx, db, getenv("ADMIN_PASSWORD"), stdout); err != nil {
		return err
	}
	limits := server.Limits{Body: envInt(getenv, "BODY_LIMIT", server.DefaultBodyLimit), Upload: envInt(getenv, "UPLOAD_LIMIT", server.DefaultUploadLimit),
		// Unset (0): the server's defaults, 10 s for a JSON or form body and 64 KiB/s for uploads.
		BodyTimeouts: server.BodyTimeouts{Body: time.Duration(envInt(getenv, "BODY_TIMEOUT", 0)) * time.Second, UploadMinRate: envInt(getenv, "UPLOAD_MIN_RATE", 0)}}
	logins := auth.GuardConfig{MaxFailures: int(envInt(getenv, "LOGIN_MAX_FAILURES", 0)),
		Window: time.Duration(envInt(getenv, "LOGIN_WINDOW", 0)) * time.Second}
	handler, err := app.Build(ctx, app.Options{DB: db, Log: log, Secret: getenv("SWITCHBOARD_SECRET"), Limits: limits, Logins: logins, Version: version,
		BlobDir: getenv("BLOB_DIR"), MediaMax: envInt(getenv, "MEDIA_MAX_BYTES", app.DefaultMediaMax)})
	if err != nil {
		return err
	}
	addr := getenv("LISTEN_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	// Request bodies get their read deadlines per request from the server package (BODY_TIMEOUT, and a
	// minimum rate for uploads), so there is no ReadTimeout: a flat one would cap every upload at the same
	// time, and since net/http keeps reading the connection after the body (to notice a client that
	// leaves), its expiry would cancel the context of any longer request, a streamed CSV export included.
	// No WriteTimeout either: it runs from the request's headers to the last byte of the answer, so it
	// would cut off long exports and the answer of a long import. MaxHeaderBytes: API headers are small.
	srv := &http.Server{
		Addr: addr, Handler: handler,
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", addr, "docs", "/docs")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight requests finish, then close the store (deferred).
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func addUser(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, db *gorm.DB) error {
	if len(args) < 2 || args[0] != "add" {
		return errors.New("usage: switchboard user add NAME [admin]")
	}
	roles := []string{"user"}
	if len(args) > 2 && args[2] == "admin" {
		roles = []string{"admin", "user"}
	}
	pw := getenv("SWITCHBOARD_USER_PASSWORD")
	if pw == "" {
		var err error
		if pw, err = auth.RandomSecret(12); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password for %s: %s (shown once)\n", args[1], pw)
	}
	return app.AddUser(ctx, db, args[1], pw, roles)
}

func newLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if getenv("LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func envInt(getenv func(string) string, name string, def int64) int64 {
	if v, err := strconv.ParseInt(getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}
