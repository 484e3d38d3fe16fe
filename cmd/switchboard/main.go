// Command switchboard serves five contact-center APIs from one store.
//
//	switchboard serve            start the server (default command)
//	switchboard migrate          apply schema migrations and exit
//	switchboard user add NAME [admin]   add a user (password from SWITCHBOARD_USER_PASSWORD or generated)
//	switchboard key add NAME [admin|events|cim]   add a platform API key (printed once; default scope admin)
//	switchboard collect add-database NAME      add a Collect! database (cv_…)
//	switchboard collect add-operator DATABASE OP_ID [NAME]   add a Collect! operator (password from
//	                                          SWITCHBOARD_OPERATOR_PASSWORD or generated)
//	switchboard version
package main

import (
	"cmp"
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
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // SCHEDULE_TIME_ZONE works where the system has no zone files (a scratch image)

	"gorm.io/gorm"

	"switchboard/app"
	"switchboard/auth"
	"switchboard/demo"
	"switchboard/gateway"
	"switchboard/models"
	"switchboard/models/platform"
	"switchboard/queue"
	"switchboard/server"
	"switchboard/webhooks"
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
	case "serve", "migrate", "user", "key", "collect", "demo":
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, user add, key add, collect add-database|add-operator, demo, version)", cmd)
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
	case "key":
		return addKey(ctx, args[2:], stdout, db)
	case "collect":
		return collectCmd(ctx, args[2:], getenv, stdout, db)
	case "demo":
		return demo.Seed(ctx, db, stdout)
	}
	if err := app.EnsureAdmin(ctx, db, getenv("ADMIN_PASSWORD"), stdout); err != nil {
		return err
	}
	limits := server.Limits{Body: envInt(getenv, "BODY_LIMIT", server.DefaultBodyLimit), Upload: envInt(getenv, "UPLOAD_LIMIT", server.DefaultUploadLimit),
		// Unset (0): the server's defaults, 10 s for a JSON or form body and 64 KiB/s for uploads.
		BodyTimeouts: server.BodyTimeouts{Body: time.Duration(envInt(getenv, "BODY_TIMEOUT", 0)) * time.Second, UploadMinRate: envInt(getenv, "UPLOAD_MIN_RATE", 0)}}
	logins := auth.GuardConfig{MaxFailures: int(envInt(getenv, "LOGIN_MAX_FAILURES", 0)),
		Window: time.Duration(envInt(getenv, "LOGIN_WINDOW", 0)) * time.Second}
	sim, err := simConfig(getenv)
	if err != nil {
		return err
	}
	qcfg, err := queueConfig(getenv)
	if err != nil {
		return err
	}
	var bareIDs bool
	switch a := getenv("ICTCORE_CREATE_ANSWER"); a {
	case "", "object":
	case "bare":
		bareIDs = true
	default:
		return fmt.Errorf("ICTCORE_CREATE_ANSWER: want object or bare, got %q", a)
	}
	zone, err := time.LoadLocation(cmp.Or(getenv("SCHEDULE_TIME_ZONE"), "UTC"))
	if err != nil {
		return fmt.Errorf("SCHEDULE_TIME_ZONE: %w", err)
	}
	retention := webhooks.DefaultRetention
	if v := getenv("CALL_EVENT_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 0 {
			return fmt.Errorf("CALL_EVENT_RETENTION_DAYS: want a number of days (0: keep forever), got %q", v)
		}
		retention = time.Duration(days) * 24 * time.Hour
		if days == 0 {
			retention = -1
		}
	}
	svc, err := app.Build(ctx, app.Options{DB: db, Log: log, Secret: getenv("SWITCHBOARD_SECRET"), Limits: limits, Logins: logins, Version: version,
		EventRetention: retention,
		BareCreateIDs:  bareIDs, ScheduleZone: zone, PhoneRegion: strings.ToUpper(getenv("PHONE_DEFAULT_REGION")),
		BlobDir: getenv("BLOB_DIR"), MediaMax: envInt(getenv, "MEDIA_MAX_BYTES", app.DefaultMediaMax), Sim: sim,
		RetryDelay:    time.Duration(envInt(getenv, "RETRY_DELAY", 0)) * time.Second,
		RetryMaxDelay: time.Duration(envInt(getenv, "RETRY_MAX_DELAY", 0)) * time.Second,
		DialerWorkers: int(envInt(getenv, "DIALER_WORKERS", 0)),
		Queue:         qcfg})
	if err != nil {
		return err
	}
	// Deferred after the store's Close, so it runs before it: on every way out the workers stop first.
	// On a shutdown they have already stopped below, and this does nothing.
	defer stopQueue(svc, log)
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
		Addr: addr, Handler: svc,
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
	// Stop accepting and let in-flight requests finish; then stop the job queue's workers once the jobs
	// under way are done (a send answered just before the drain is queued, not lost); then close the
	// store (deferred).
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopQueue(svc, log)
	return nil
}

// queueStopWait bounds the wait for the jobs under way at shutdown; past it they are cancelled, and an
// attempt cancelled before its gateway answered goes back to the queue for the next start.
const queueStopWait = 30 * time.Second

func stopQueue(svc *app.Service, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), queueStopWait)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		log.Warn("job queue stopped with jobs cut short", "error", err)
	}
}

// simConfig reads the delivery simulator's settings: SIM_LATENCY_MS and SIM_JITTER_MS (added to each
// attempt), SIM_FAILURE_RATE, SIM_NO_ANSWER_RATE and SIM_BUSY_RATE (shares between 0 and 1; the last two
// for calls only), SIM_SEED (the same seed gives the same outcomes). A value that is not a number is an
// error, not a silent default; the simulator refuses rates out of range.
func simConfig(getenv func(string) string) (gateway.SimConfig, error) {
	var c gateway.SimConfig
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"SIM_FAILURE_RATE", &c.FailureRate}, {"SIM_NO_ANSWER_RATE", &c.NoAnswerRate}, {"SIM_BUSY_RATE", &c.BusyRate}} {
		if v := getenv(f.name); v != "" {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a number", f.name, v)
			}
			*f.dst = r
		}
	}
	for _, f := range []struct {
		name string
		dst  *time.Duration
	}{{"SIM_LATENCY_MS", &c.Latency}, {"SIM_JITTER_MS", &c.Jitter}} {
		if v := getenv(f.name); v != "" {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms < 0 {
				return c, fmt.Errorf("%s: %q is not a number of milliseconds", f.name, v)
			}
			*f.dst = time.Duration(ms) * time.Millisecond
		}
	}
	if v := getenv("SIM_SEED"); v != "" {
		seed, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return c, fmt.Errorf("SIM_SEED: %q is not an integer", v)
		}
		c.Seed = seed
	}
	return c, nil
}

// queueConfig reads the job queue's settings: QUEUE_WORKERS, and QUEUE_JOB_TIMEOUT and QUEUE_RESCUE_AFTER
// in seconds (unset or 0: the queue's defaults). A rescue window that does not exceed the job timeout is
// refused, defaults included: River would take jobs still running for lost and run them a second time.
func queueConfig(getenv func(string) string) (queue.Config, error) {
	c := queue.Config{Workers: int(envInt(getenv, "QUEUE_WORKERS", 0)),
		JobTimeout:  time.Duration(envInt(getenv, "QUEUE_JOB_TIMEOUT", 0)) * time.Second,
		RescueAfter: time.Duration(envInt(getenv, "QUEUE_RESCUE_AFTER", 0)) * time.Second}
	timeout, rescue := cmp.Or(c.JobTimeout, queue.DefaultJobTimeout), cmp.Or(c.RescueAfter, queue.DefaultRescueAfter)
	if rescue <= timeout {
		return c, fmt.Errorf("QUEUE_RESCUE_AFTER (%s) must exceed QUEUE_JOB_TIMEOUT (%s), or jobs still running would be run twice",
			rescue, timeout)
	}
	return c, nil
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

// addKey creates a platform API key and prints it, the one time it is shown: how the first key is made.
func addKey(ctx context.Context, args []string, stdout io.Writer, db *gorm.DB) error {
	if len(args) < 2 || len(args) > 3 || args[0] != "add" {
		return errors.New("usage: switchboard key add NAME [admin|events|cim]")
	}
	scope := platform.ScopeAdmin
	if len(args) == 3 {
		scope = args[2]
	}
	k, key, err := platform.CreateAPIKey(ctx, db, args[1], scope)
	if err != nil {
		return fmt.Errorf("key add: %w", err)
	}
	fmt.Fprintf(stdout, "API key %s (id %d, scope %s): %s\n(shown once: send it as X-API-Key; only its hash is stored)\n", k.Name, k.ID, k.Scope, key)
	return nil
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
