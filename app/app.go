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

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/blob"
	"switchboard/delivery"
	"switchboard/dialer"
	"switchboard/gateway"
	"switchboard/handlers/accolades"
	"switchboard/handlers/cim"
	"switchboard/handlers/collect"
	"switchboard/handlers/ictcore"
	"switchboard/handlers/platform"
	"switchboard/handlers/ucontact"
	"switchboard/models"
	cimcalls "switchboard/models/cim"
	collectmodel "switchboard/models/collect"
	"switchboard/models/events"
	"switchboard/models/identity"
	"switchboard/queue"
	"switchboard/realtime"
	"switchboard/schedules"
	"switchboard/server"
	"switchboard/webhooks"
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
	// PhoneRegion reads national phone numbers (ISO country code): where the dialer needs their zone, and
	// in do-not-call lists.
	PhoneRegion string
	// ScheduleZone is the time zone ICTCore schedules' cron-like fields are read in, and of contacts whose
	// number tells none; nil: UTC.
	ScheduleZone *time.Location
	// Clock is the dialer's time (campaign pacing); nil: time.Now. Tests move it by hand, with a short
	// DialerMaxWait so that ticks see the move soon (0: dialer.DefaultMaxWait).
	Clock         func() time.Time
	DialerMaxWait time.Duration
	// DialerWorkers is how many campaign ticks a node runs at once (DIALER_WORKERS; 0: dialer.DefaultWorkers).
	DialerWorkers int
	// CollectClock measures the lifetimes of Collect! tokens (access 1 h, refresh 24 h); nil: time.Now.
	// Tests move it to expire tokens without sleeping.
	CollectClock func() time.Time
	// BareCreateIDs makes ICTCore's creates answer the bare id instead of {"<x>_id": n}
	// (ICTCORE_CREATE_ANSWER=bare; review R10).
	BareCreateIDs bool
	// Sim is the delivery simulator: the gateway of every service no active provider offers. The zero
	// value delivers everything at once.
	Sim gateway.SimConfig
	// RetryDelay is the wait before a failed transmission's first automatic retry, doubled for each
	// further one up to RetryMaxDelay; 0: delivery.DefaultRetryDelay and DefaultRetryMaxDelay.
	RetryDelay, RetryMaxDelay time.Duration
	// Queue tunes the job queue (workers, polling, timeouts); Queue.Log is filled in.
	Queue queue.Config
	// Listeners receive every call event on this node, besides the vendor APIs' own (tests, the bench).
	Listeners []events.Listener
	// Webhooks tunes the webhook deliveries (timeout, attempts, backoff, attempts at once per endpoint);
	// DB, Queue and Log are filled in.
	Webhooks webhooks.Config
	// EventRetention is how long call events and webhook delivery attempts are kept (one node deletes older
	// ones every hour); 0: webhooks.DefaultRetention; negative: forever.
	EventRetention time.Duration
	// Relay tunes how a node on Postgres hears the other nodes' call events (reconnect backoff).
	Relay realtime.RelayOptions
}

// Service is the assembled Switchboard: its HTTP surface, and behind it the job queue's workers and the
// call-event stream (its bus, and on Postgres the LISTEN relay), which run from Build until Stop.
type Service struct {
	http.Handler
	// Events publishes call events as POST /platform/call-events does (the bench, tests).
	Events events.Publisher
	queue  *queue.Queue
	bus    *realtime.Bus
	relay  *realtime.Relay // nil on SQLite
	crms   *accolades.Handler
}

// Stop stops the job queue's workers: they finish the jobs under way until ctx ends, then are cancelled
// (see queue.Queue.Stop); then the call-event relay and bus (the events already queued reach the
// listeners first). Call it after the HTTP server has drained and before closing the store.
func (s *Service) Stop(ctx context.Context) error {
	s.crms.Stop(ctx) // the CRM sockets are told (connectionClosed) and the node's CRM id leases released
	err := s.queue.Stop(ctx)
	if s.relay != nil {
		s.relay.Stop()
	}
	s.bus.Close()
	return err
}

// DefaultMediaMax is the media upload limit the ICTCore contract states (20 MiB).
const DefaultMediaMax = 20 << 20

// DefaultBlobDir is the media directory of the embedded store, beside switchboard.db.
const DefaultBlobDir = "switchboard-blobs"

// Build answers the whole HTTP surface over a migrated store, with the job queue's workers started (the
// caller stops them with Stop).
func Build(ctx context.Context, o Options) (*Service, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	ictcore.SweepImports(ctx, o.DB, o.Log) // CSV imports a killed process left behind
	a, err := assemble(ctx, o)
	if err != nil {
		return nil, err
	}
	h, err := server.New(server.Config{DB: o.DB, Log: o.Log, APIs: a.apis, Limits: o.Limits, Collectors: a.collectors})
	if err != nil {
		a.bus.Close()
		return nil, err
	}
	if err := a.queue.Start(ctx); err != nil {
		a.bus.Close()
		return nil, err
	}
	svc := &Service{Handler: h, Events: a.events, queue: a.queue, bus: a.bus, crms: a.crms}
	if models.IsPostgres(o.DB) {
		// Every node hears every node's call events, its own included, on its LISTEN connection.
		// and the Collect! session revocations, which let it keep session lookups while it hears them.
		relay, err := realtime.NewRelay(a.bus, o.DB, o.Log, o.Relay)
		if err == nil {
			relay.Watch(collectmodel.RevocationNotice, a.revocations)
			err = relay.Start(ctx)
		}
		if err != nil {
			_ = svc.Stop(ctx)
			return nil, err
		}
		svc.relay = relay
	}
	return svc, nil
}

// APIs answers every vendor API over the store, as Build mounts them (their job queue not started).
func APIs(ctx context.Context, o Options) ([]server.API, error) {
	a, err := assemble(ctx, o)
	if err != nil {
		return nil, err
	}
	a.bus.Close()
	return a.apis, nil
}

// assembly is every vendor API, the job queue their work goes to, their own metrics, and the call-event
// stream that joins them: its Publisher (events), which the vendor APIs that publish call events take
// (`Events events.Publisher` in their Configs), and this node's bus, which hands every event to the
// listeners subscribed on it.
type assembly struct {
	apis       []server.API
	queue      *queue.Queue
	collectors []prometheus.Collector
	events     *events.Recorder
	bus        *realtime.Bus
	crms       *accolades.Handler
	// revocations hears the other nodes' Collect! session revocations through the relay (Postgres).
	revocations *collectmodel.Revocations
}

// assemble builds every vendor API and the job queue their work goes to.
func assemble(ctx context.Context, o Options) (*assembly, error) {
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
	qc := o.Queue
	qc.Log = o.Log
	q := queue.New(o.DB, qc)
	scheds := schedules.New(o.DB, q, o.Log)
	// The call-event stream (DESIGN §6). Its Publisher (pub) is taken by what publishes call events: the
	// platform API, uContact's AgentCall and dialer, Accolades' REST dial/, and ICTCore's answered voice
	// transmissions (delivery). Sinks run in the transaction that records an event, once per event: the
	// webhook jobs and CIM's interaction (models/cim.RecordCall). Listeners get every event on this node
	// after its commit: o.Listeners here, the Accolades hub where its API is built below.
	bus := realtime.NewBus(o.Log)
	for _, l := range o.Listeners {
		bus.Subscribe(l)
	}
	wh := o.Webhooks
	wh.DB, wh.Queue, wh.Log = o.DB, q, o.Log
	hooks := webhooks.New(wh)
	retention := o.EventRetention
	if retention == 0 {
		retention = webhooks.DefaultRetention
	}
	webhooks.KeepFor(o.DB, q, o.Log, retention)
	pub := events.NewRecorder(events.Config{DB: o.DB, Sinks: []events.Sink{hooks.Sink, cimcalls.RecordCall}, Local: bus.Deliver})
	sender, err := delivery.New(delivery.Config{DB: o.DB, Blobs: blobs, Queue: q, Log: o.Log, Sim: o.Sim,
		Schedules: scheds, Region: o.PhoneRegion, Events: pub,
		RetryDelay: o.RetryDelay, RetryMaxDelay: o.RetryMaxDelay})
	if err != nil {
		bus.Close()
		return nil, fmt.Errorf("delivery: %w", err)
	}
	dial := dialer.New(dialer.Config{DB: o.DB, Queue: q, Log: o.Log, Enqueue: sender.Enqueue, Schedules: scheds, Clock: o.Clock,
		Region: o.PhoneRegion, Zone: o.ScheduleZone, MaxWait: o.DialerMaxWait, Workers: o.DialerWorkers})
	acc, err := accolades.New(ctx, accolades.Config{DB: o.DB, Log: o.Log, Logins: logins, Publisher: pub, Sim: o.Sim})
	if err != nil {
		bus.Close()
		return nil, fmt.Errorf("accolades: %w", err)
	}
	bus.Subscribe(acc.Deliver) // the Accolades hub pushes a call to the CRM socket this node holds for its agent
	uc, err := ucontact.New(ucontact.Config{DB: o.DB, Logins: logins, Queue: q, Sim: o.Sim, Events: pub, Region: o.PhoneRegion,
		Zone: o.ScheduleZone, Log: o.Log})
	if err != nil {
		bus.Close()
		return nil, fmt.Errorf("ucontact: %w", err)
	}
	revocations := collectmodel.NewRevocations(o.DB)
	return &assembly{queue: q, collectors: []prometheus.Collector{dial.Collector()}, events: pub, bus: bus, crms: acc,
		revocations: revocations, apis: []server.API{
			ictcore.New(ictcore.Config{DB: o.DB, Tokens: tokens, Logins: logins, Log: o.Log, Blobs: blobs, MediaMax: mediaMax,
				Sender: sender, Dialer: dial, BareIDs: o.BareCreateIDs, ScheduleZone: o.ScheduleZone}),
			collect.New(collect.Config{DB: o.DB, Logins: logins, Clock: o.CollectClock, Blobs: blobs, FileMax: mediaMax, Queue: q, Log: o.Log,
				Revocations: revocations}),
			cim.New(cim.Config{DB: o.DB}),
			uc,
			acc,
			platform.New(platform.Config{DB: o.DB, Tokens: tokens, Version: o.Version, Region: o.PhoneRegion, Events: pub}),
		}}, nil
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
