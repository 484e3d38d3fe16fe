// Package webhooks posts call events to the platform's webhook subscriptions (DESIGN §6; the contract is
// the Webhooks tag of openapi/platform.yaml). Its Sink runs in the transaction that records an event and
// inserts one job per matching subscription there, so a delivery exists exactly when its event does. A
// worker on the job queue makes each attempt: it posts the event (as Switchboard JSON or as Accolades'
// call-notification form), signed with the subscription's secret, within a timeout, and logs the attempt
// in webhook_deliveries. A failure (no 2xx answer, a timeout, a refused connection) is retried by the
// queue with a backoff, up to MaxAttempts attempts in all; then the delivery gives up.
//
// One endpoint can never hold up the others: an attempt waits at most Timeout, and one node makes at
// most PerEndpoint attempts to one subscription at a time (a further one waits a moment for a slot, then
// steps aside and comes back, without holding a worker meanwhile), so an endpoint that hangs or fails
// forever occupies a few workers at most.
// Secrets are never logged; nor are URLs, which may carry tokens (the host only).
package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/events"
	"switchboard/queue"
)

// The defaults (openapi/platform.yaml states them): an attempt waits 10 s for an answer; a delivery makes
// 10 attempts, the n-th retry waiting 15 s × 2^(n-1), at most an hour (15 s, 30 s, 1 min, … 1 h: about
// 2 h 8 min from the first attempt to the last); 4 attempts to one subscription at once per node.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultMaxAttempts   = 10
	DefaultRetryDelay    = 15 * time.Second
	DefaultRetryMaxDelay = time.Hour
	DefaultPerEndpoint   = 4
	// slotWait is how long a delivery waits for one of its subscription's PerEndpoint slots on this node
	// (a fast endpoint frees one soon); then it steps aside for busyWait, without holding a worker.
	slotWait = 100 * time.Millisecond
	busyWait = time.Second
	// answerKept is how much of an answer's body is read (and the connection reused); errorKept is how much
	// of a failed answer the log keeps.
	answerKept = 64 << 10
	errorKept  = 256
)

// Headers of a delivery.
const (
	HeaderSignature = "X-Switchboard-Signature"
	HeaderTimestamp = "X-Switchboard-Timestamp"
	HeaderDelivery  = "X-Switchboard-Delivery"
	HeaderAttempt   = "X-Switchboard-Attempt"
	userAgent       = "Switchboard-Webhooks/1"
)

// Config is what the service is built from; zero values take the defaults.
type Config struct {
	DB    *gorm.DB
	Queue *queue.Queue
	Log   *slog.Logger
	// Timeout bounds one attempt, from connecting to the answer's headers.
	Timeout time.Duration
	// MaxAttempts is every attempt of one delivery, the first included.
	MaxAttempts int
	// RetryDelay is the wait before the first retry, doubled for each further one up to RetryMaxDelay.
	RetryDelay, RetryMaxDelay time.Duration
	// PerEndpoint bounds the attempts one node makes to one subscription at the same time.
	PerEndpoint int
	// Transport makes the requests; nil: a transport of the service's own.
	Transport http.RoundTripper
	// Clock gives the signatures' timestamps; nil: time.Now.
	Clock func() time.Time
}

// Service delivers webhooks.
type Service struct {
	db                   *gorm.DB
	queue                *queue.Queue
	log                  *slog.Logger
	client               *http.Client
	timeout              time.Duration
	maxAttempts          int
	retryDelay, retryMax time.Duration
	perEndpoint          int
	clock                func() time.Time
	mu                   sync.Mutex
	slots                map[int64]*slot // subscription → its attempts under way on this node
}

// New builds the service and registers its worker on the queue (before the queue starts).
func New(c Config) *Service {
	s := &Service{db: c.DB, queue: c.Queue, log: c.Log, timeout: c.Timeout, maxAttempts: c.MaxAttempts,
		retryDelay: c.RetryDelay, retryMax: c.RetryMaxDelay, perEndpoint: c.PerEndpoint, clock: c.Clock,
		slots: map[int64]*slot{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "webhooks")
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = DefaultMaxAttempts
	}
	if s.retryDelay <= 0 {
		s.retryDelay = DefaultRetryDelay
	}
	if s.retryMax <= 0 {
		s.retryMax = DefaultRetryMaxDelay
	}
	s.retryMax = max(s.retryMax, s.retryDelay)
	if s.perEndpoint <= 0 {
		s.perEndpoint = DefaultPerEndpoint
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	tr := c.Transport
	if tr == nil {
		tr = &http.Transport{Proxy: http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: s.timeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: s.timeout, ResponseHeaderTimeout: s.timeout,
			MaxIdleConns: 100, MaxIdleConnsPerHost: s.perEndpoint, IdleConnTimeout: 90 * time.Second}
	}
	// A signed delivery is not sent on to wherever a redirect points: a 3xx is a failed attempt.
	s.client = &http.Client{Transport: tr, Timeout: s.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	river.AddWorker(c.Queue.Workers(), &worker{s: s})
	return s
}

// Sink is the events.Sink of webhooks: in the transaction that records e, one delivery job per active
// subscription that wants e.
func (s *Service) Sink(_ context.Context, tx *gorm.DB, e events.CallEvent) error {
	subs, err := events.Subscribers(tx, e)
	if err != nil || len(subs) == 0 {
		return err
	}
	params := make([]river.InsertManyParams, len(subs))
	for i := range subs {
		params[i] = river.InsertManyParams{Args: deliverArgs{WebhookID: subs[i].ID, UniqueID: e.UniqueID, State: e.State},
			InsertOpts: &river.InsertOpts{MaxAttempts: s.maxAttempts}}
	}
	return s.queue.InsertManyTx(tx, params)
}

// deliverArgs is one delivery: an event (a call's unique id and state) to one subscription.
type deliverArgs struct {
	WebhookID int64  `json:"webhook_id"`
	UniqueID  string `json:"unique_id"`
	State     string `json:"state"`
}

func (deliverArgs) Kind() string { return "webhook_deliver" }

type worker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

// Work makes one attempt. It answers nil when the delivery is done (delivered, or its subscription gone
// or inactive), an error when the attempt failed (the queue retries it, or gives up after the last).
func (w *worker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	return w.s.attempt(ctx, job.ID, job.Attempt, job.MaxAttempts, job.Args)
}

// NextRetry is the backoff: RetryDelay before the first retry, doubled for each further one.
func (w *worker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	return time.Now().Add(w.s.backoff(job.Attempt))
}

// Timeout bounds a run beyond the attempt's own timeout: the log write after it.
func (w *worker) Timeout(*river.Job[deliverArgs]) time.Duration { return w.s.timeout + 30*time.Second }

// backoff is the wait after attempt number n failed.
func (s *Service) backoff(n int) time.Duration {
	d := s.retryDelay
	for i := 1; i < n && d < s.retryMax; i++ {
		d *= 2
	}
	return min(d, s.retryMax)
}

// slot bounds the attempts to one subscription on this node: sem holds one token per attempt under way;
// users counts the deliveries holding or waiting for a token, so an idle subscription's slot is dropped.
type slot struct {
	sem   chan struct{}
	users int
}

// acquire takes one of the subscription's attempt slots, waiting up to slotWait for one; false: none
// came free (or ctx ended), and the caller does not release.
func (s *Service) acquire(ctx context.Context, id int64) bool {
	s.mu.Lock()
	sl := s.slots[id]
	if sl == nil {
		sl = &slot{sem: make(chan struct{}, s.perEndpoint)}
		s.slots[id] = sl
	}
	sl.users++
	s.mu.Unlock()
	select {
	case sl.sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(slotWait)
	defer t.Stop()
	select {
	case sl.sem <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	s.leave(id, sl)
	return false
}

// release gives back a slot acquire took.
func (s *Service) release(id int64) {
	s.mu.Lock()
	sl := s.slots[id]
	s.mu.Unlock()
	<-sl.sem
	s.leave(id, sl)
}

func (s *Service) leave(id int64, sl *slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl.users--; sl.users == 0 {
		delete(s.slots, id)
	}
}

func (s *Service) attempt(ctx context.Context, jobID int64, attempt, maxAttempts int, a deliverArgs) error {
	sub, err := events.GetSubscription(ctx, s.db, a.WebhookID)
	if models.KindOf(err) == models.NotFound || (err == nil && !sub.Active) {
		return nil // deleted or deactivated since: its queued deliveries end here
	}
	if err != nil {
		return err
	}
	if !s.acquire(ctx, sub.ID) {
		return river.JobSnooze(busyWait) // not an attempt: it does not count against MaxAttempts
	}
	defer s.release(sub.ID)
	rec, err := events.Find(ctx, s.db, a.UniqueID, a.State)
	if models.KindOf(err) == models.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	body, contentType, err := Encode(sub.Format, rec.CallEvent)
	if err != nil {
		return river.JobCancel(err) // an event the format cannot carry: retrying changes nothing
	}
	ts := s.clock().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return river.JobCancel(fmt.Errorf("webhook %d: %w", sub.ID, err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(sub.Secret, ts, body))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(jobID, 10))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))

	started := time.Now()
	status, failure := s.post(req)
	took := time.Since(started)
	if failure != "" && ctx.Err() != nil {
		// The node is stopping (or the run outlived its bound): not an attempt of the endpoint's making.
		// Back to the queue at once, for this node's next start or another node.
		return river.JobSnooze(0)
	}
	d := &events.Delivery{WebhookID: sub.ID, DeliveryID: jobID, EventID: rec.ID, UniqueID: a.UniqueID, State: a.State, Attempt: attempt,
		StatusCode: status, Error: failure, AttemptedAt: started.UnixMilli(), DurationMs: took.Milliseconds()}
	switch {
	case failure == "":
		d.Outcome = events.Delivered
	case attempt >= maxAttempts:
		d.Outcome = events.Failed
	default:
		d.Outcome = events.Retrying
	}
	if err := events.LogDelivery(context.WithoutCancel(ctx), s.db, d); err != nil {
		s.log.Error("delivery log write failed", "webhook", sub.ID, "unique_id", a.UniqueID, "state", a.State, "attempt", attempt, "error", err)
	}
	if failure == "" {
		return nil
	}
	s.log.Warn("webhook attempt failed", "webhook", sub.ID, "host", req.URL.Host, "unique_id", a.UniqueID, "state", a.State,
		"attempt", attempt, "of", maxAttempts, "error", failure)
	return errors.New(failure)
}

// post sends req and answers the status (nil when none came) and, for a failed attempt, why.
func (s *Service) post(req *http.Request) (*int, string) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, describe(err, s.timeout)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, answerKept))
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return &code, ""
	}
	msg := fmt.Sprintf("answered %d %s", code, http.StatusText(code))
	if len(excerpt) > 0 {
		if len(excerpt) > errorKept {
			excerpt = excerpt[:errorKept]
		}
		msg += ": " + strings.ToValidUTF8(string(excerpt), "?")
	}
	return &code, msg
}

// describe answers why a request got no answer, without its URL (which may carry a token).
func describe(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s (timeout)", timeout)
	}
	return "no answer: " + err.Error()
}
