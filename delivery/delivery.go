// Package delivery sends ICTCore transmissions: a send starts an attempt (a spool) and queues its job in
// the same transaction; a worker on the job queue builds the message from the transmission's program,
// picks the gateway, makes the attempt and records its outcome, and schedules the automatic retry when the
// attempt failed and tries are left. The HTTP request that sent it has long been answered by then.
//
// What a killed or stopped node leaves is safe: a queued attempt's job is rescued and delivered once; an
// attempt a worker was stopped in before the gateway answered goes back to the queue (the gateway gave up
// on ctx's end); an attempt a killed worker was in the middle of is recorded as failed with its outcome
// unknown and is not retried automatically, so nothing is sent twice without someone asking for it.
package delivery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/blob"
	"switchboard/coalesce"
	"switchboard/gateway"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/models/ictcore"
	"switchboard/models/platform"
	"switchboard/queue"
	"switchboard/schedules"
)

// Config is what the delivery service is built from; zero durations take the defaults.
type Config struct {
	DB    *gorm.DB
	Blobs blob.Store // message files (attachments, fax documents, recordings)
	Queue *queue.Queue
	// Schedules fires scheduled sends (the service registers its send action on it).
	Schedules *schedules.Service
	Log       *slog.Logger
	// Sim is the simulator's behaviour: the gateway of every service no active provider offers.
	Sim gateway.SimConfig
	// RetryDelay is the wait before the first automatic retry; each further one waits twice the last, up
	// to RetryMaxDelay.
	RetryDelay, RetryMaxDelay time.Duration
	// Region reads national phone numbers for the do-not-call check (PHONE_DEFAULT_REGION).
	Region string
	// Events receives an answered voice call's events (DESIGN §6); nil publishes none.
	Events events.Publisher
}

// The defaults: ICTCore retries a failed transmission after 60 s.
const (
	DefaultRetryDelay    = time.Minute
	DefaultRetryMaxDelay = time.Hour
)

// Service sends transmissions.
type Service struct {
	db                  *gorm.DB
	blobs               blob.Store
	queue               *queue.Queue
	log                 *slog.Logger
	sim                 *gateway.Simulator
	retryDelay, maxWait time.Duration
	region              string
	schedules           *schedules.Service
	sends               *coalesce.Batcher[ictcore.SendRequest, ictcore.Sent]
	events              events.Publisher
	open                openJob
}

// openJob is the newest delivery job this node inserted with room left, which later attempts may join
// (ictcore.JoinBatch) while it is young: its worker waits until joinWindow after its insert, then seals
// it. room is what this node has not yet handed out; a join that rolls back leaves it smaller, never
// larger, so a job never makes more than batchSize attempts.
type openJob struct {
	mu   sync.Mutex
	id   int64
	room int
	at   time.Time
}

// New builds the service and registers its workers on the queue (before the queue starts). A simulator
// configuration out of range answers an error of kind Invalid.
func New(c Config) (*Service, error) {
	sim, err := gateway.NewSimulator(c.Sim)
	if err != nil {
		return nil, err
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	s := &Service{db: c.DB, blobs: c.Blobs, queue: c.Queue, log: c.Log, sim: sim, events: c.Events,
		retryDelay: c.RetryDelay, maxWait: c.RetryMaxDelay, region: c.Region, schedules: c.Schedules}
	if s.retryDelay <= 0 {
		s.retryDelay = DefaultRetryDelay
	}
	if s.maxWait <= 0 {
		s.maxWait = DefaultRetryMaxDelay
	}
	s.maxWait = max(s.maxWait, s.retryDelay)
	s.sends = coalesce.New(sendBatch, s.sendMany).Linger(sendLinger)
	river.AddWorker(c.Queue.Workers(), &deliverWorker{s: s})
	river.AddWorker(c.Queue.Workers(), &retryWorker{s: s})
	if s.schedules != nil {
		s.schedules.Handle(ictcore.ActionSend, func(ctx context.Context, tx *gorm.DB, sc *ictcore.Schedule) error {
			_, err := ictcore.SendTransmission(ctx, tx, ictcore.AnyOwner, sc.TargetID, s.Enqueue)
			return err
		})
	}
	return s, nil
}

// errNoSchedules answers a schedule request on a service built without schedules.
var errNoSchedules = models.Errorf(models.Busy, "schedules are not running on this node")

// Schedule schedules sending a transmission the owner may see and answers the schedule's id.
func (s *Service) Schedule(ctx context.Context, o ictcore.Owner, transmissionID int64, w ictcore.When) (int64, error) {
	if s.schedules == nil {
		return 0, errNoSchedules
	}
	sc, err := ictcore.ScheduleTransmission(ctx, s.db, o, transmissionID, w, s.schedules.Arm)
	if err != nil {
		return 0, err
	}
	return sc.ID, nil
}

// Unschedule cancels every schedule of a transmission the owner may see.
func (s *Service) Unschedule(ctx context.Context, o ictcore.Owner, transmissionID int64) error {
	return ictcore.CancelTransmissionSchedules(ctx, s.db, o, transmissionID)
}

// Send starts an attempt of a transmission the owner may see (send and retry) and answers its spool id;
// the attempt itself happens on the queue. Concurrent sends share a transaction (see sendMany).
func (s *Service) Send(ctx context.Context, o ictcore.Owner, transmissionID int64) (int64, error) {
	sent, err := s.sends.Do(ctx, ictcore.SendRequest{Owner: o, ID: transmissionID})
	if err == nil {
		err = sent.Err
	}
	if err != nil {
		return 0, err
	}
	return sent.Spool.ID, nil
}

// sendBatch bounds the sends one transaction starts: their delivery jobs are one per batchSize spools.
// sendLinger is how long a batch smaller than the one before waits for more sends (coalesce.Linger): a
// batch's spools make one delivery job, and the sends bench (64 senders) measured 3.8–4.2k sends/s
// on Postgres with batches settling at about 32 sends, against 4.5–4.9k with this linger (about 43).
const (
	sendBatch  = batchSize
	sendLinger = time.Millisecond
)

// sendMany starts the attempts of the sends that arrived together, in one transaction with their
// delivery jobs (group commit), one job per batchSize spools. On Postgres the sends bench measured a
// transaction and a job per send at 0.04–0.08 of its bare claim loop, and shared ones at 0.34–0.47 with
// 64 concurrent senders (batches of about 32).
func (s *Service) sendMany(ctx context.Context, reqs []ictcore.SendRequest) ([]ictcore.Sent, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return ictcore.SendTransmissions(ctx, s.db, reqs, s.Enqueue)
}

// Enqueue answers, in tx, the delivery job of each of n new attempts (ictcore.Enqueue): as many as fit
// join this node's open job, if it is still open; the rest get new jobs, one for each batchSize of them,
// inserted in one statement, the last one open when it has room.
func (s *Service) Enqueue(tx *gorm.DB, n int) ([]int64, error) {
	out := make([]int64, 0, n)
	if id, take := s.open.reserve(n); take > 0 {
		ok, err := ictcore.JoinBatch(tx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			for range take {
				out = append(out, id)
			}
		}
	}
	rest := n - len(out)
	if rest == 0 {
		return out, nil
	}
	params := make([]river.InsertManyParams, (rest+batchSize-1)/batchSize)
	last := rest - (len(params)-1)*batchSize // the last job's attempts
	for i := range params {
		params[i] = river.InsertManyParams{Args: deliverArgs{Open: i == len(params)-1 && last < batchSize}}
	}
	jobs, err := s.queue.InsertManyIDsTx(tx, params)
	if err != nil {
		return nil, err
	}
	if len(jobs) != len(params) {
		return nil, fmt.Errorf("delivery: %d jobs inserted for %d", len(jobs), len(params))
	}
	for i := range rest {
		out = append(out, jobs[i/batchSize])
	}
	if last < batchSize {
		newest := jobs[len(jobs)-1]
		if err := ictcore.OpenBatch(tx, newest); err != nil {
			return nil, err
		}
		s.open.set(newest, batchSize-last)
	}
	return out, nil
}

// joinWindow is how long after its insert an open job waits for joins before it seals its batch, and so
// the least delay of a lone send. The sends bench (64 senders, batches of about 43) made a job per send
// batch at 4.2–4.9k sends/s; joins for 15 ms made jobs of about 75 at 4.2–5.4k, for 30 ms 6.2k.
const joinWindow = 30 * time.Millisecond

// reserve hands out room for up to n attempts in the open job while it is young enough to be joined
// (well inside joinWindow, as the joining transaction must commit before the job seals), and answers
// the job and how many it took.
func (o *openJob) reserve(n int) (int64, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.id == 0 || o.room == 0 || time.Since(o.at) > joinWindow/2 {
		return 0, 0
	}
	take := min(n, o.room)
	o.room -= take
	return o.id, take
}

func (o *openJob) set(id int64, room int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.id, o.room, o.at = id, room, time.Now()
}

// The jobs.

// deliverArgs is the job of a batch of attempts: it makes the queued spools that name it
// (deliverQueued). SpoolID is set only on jobs inserted before spools named their job: such a job claims
// queued spools that name none, in batches.
type deliverArgs struct {
	SpoolID int64 `json:"spool_id,omitempty"`
	// Open: the job's batch had room when it was inserted, so later attempts may join it until it seals it.
	Open bool `json:"open,omitempty"`
}

func (deliverArgs) Kind() string { return "ictcore_deliver" }

// InsertOpts: a run that ends in an error is a store failure (a gateway's failure is an outcome, not an
// error), which River retries with its backoff.
func (deliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// retryArgs is the automatic retry of a transmission that failed with tries left: due at Due (unix ms),
// and only while the transmission still waits for it with TryDone tries.
type retryArgs struct {
	TransmissionID int64 `json:"transmission_id"`
	TryDone        int   `json:"try_done"`
	Due            int64 `json:"due"`
}

func (retryArgs) Kind() string { return "ictcore_retry" }

func (retryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	if job.Args.Open {
		// Joins may come until joinWindow after the insert; the seal waits for those under way.
		if wait := time.Until(job.CreatedAt.Add(joinWindow)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := ictcore.SealBatch(ctx, w.s.db, job.ID); err != nil {
			return err
		}
	}
	return w.s.deliverQueued(ctx, job.ID, job.Args.SpoolID != 0, job.Attempt > 1)
}

type retryWorker struct {
	river.WorkerDefaults[retryArgs]
	s *Service
}

// Work starts the retry once it is due. The job is inserted at once and snoozes until then, rather than
// being inserted scheduled: River's scheduler promotes scheduled jobs every 5 s, too coarse for short
// delays, while a snooze that short stays available (and a longer one is scheduled as usual).
func (w *retryWorker) Work(ctx context.Context, job *river.Job[retryArgs]) error {
	if wait := time.Until(time.UnixMilli(job.Args.Due)); wait > 0 {
		return river.JobSnooze(wait)
	}
	_, err := ictcore.RetryTransmission(ctx, w.s.db, job.Args.TransmissionID, job.Args.TryDone, w.s.Enqueue)
	return err
}

// backoff is the wait before the retry that follows try number tries.
func (s *Service) backoff(tries int) time.Duration {
	d := s.retryDelay
	for i := 1; i < tries && d < s.maxWait; i++ {
		d *= 2
	}
	return min(d, s.maxWait)
}

func (s *Service) retry(tx *gorm.DB, t *ictcore.Transmission) error {
	due := time.Now().Add(s.backoff(t.TryDone))
	return s.queue.InsertTx(tx, retryArgs{TransmissionID: t.ID, TryDone: t.TryDone, Due: due.UnixMilli()}, nil)
}

// Attempts, in batches.

// Batches: a job makes up to batchSize attempts (a job from before spools named their job keeps
// claiming while it finds full batches, for up to drainFor); sendConcurrency bounds the gateway calls one
// batch makes at once.
const (
	batchSize       = 100
	drainFor        = 5 * time.Second
	sendConcurrency = 32
)

// interruptedWhy is the reason of an attempt cut off in a real gateway (its node killed, or its job out
// of time).
const interruptedWhy = "interrupted: the attempt was cut off, so whether it was delivered is unknown; not retried automatically"

// interrupted is the outcome of such an attempt (provider and gateway: nil and "" when not known).
func interrupted(provider *int64, gw string) ictcore.Outcome {
	return ictcore.Outcome{Status: ictcore.SpoolFailed, Reason: interruptedWhy, Response: "interrupted", NoRetry: true,
		ProviderID: provider, Gateway: gw, Results: []ictcore.SpoolResult{{Type: "error", Name: "reason", Data: interruptedWhy}}}
}

// deliverQueued makes the queued attempts of job jobID; a legacy job (from before spools named their job)
// claims queued spools that name none instead. A rerun of the job (its node died, or the store failed)
// first records the attempts the job had started as interrupted; those it had not started are still
// queued and are made now. It answers an error only when the store failed; River runs the job again then.
func (s *Service) deliverQueued(ctx context.Context, jobID int64, legacy, rerun bool) error {
	if rerun {
		started, err := ictcore.StartedBy(ctx, s.db, jobID)
		if err != nil {
			return err
		}
		ended := make([]ictcore.Ended, len(started))
		for i, sp := range started {
			ended[i] = ictcore.Ended{SpoolID: sp.ID, Outcome: interrupted(nil, "")}
		}
		if err := s.finish(ctx, ended); err != nil {
			return err
		}
	}
	queued, err := ictcore.QueuedFor(ctx, s.db, jobID)
	if err != nil {
		return err
	}
	if !legacy {
		if len(queued) == 0 {
			return nil
		}
		return s.deliverBatch(ctx, jobID, queued)
	}
	// A legacy job makes what it claimed before it was stopped (queued under its id), then claims.
	until := time.Now().Add(drainFor)
	for {
		claimed, err := ictcore.ClaimQueued(ctx, s.db, jobID, batchSize)
		if err != nil {
			return err
		}
		batch := append(queued, claimed...)
		queued = nil
		if len(batch) == 0 {
			return nil
		}
		if err := s.deliverBatch(ctx, jobID, batch); err != nil {
			return err
		}
		if len(claimed) < batchSize || time.Now().After(until) {
			return nil
		}
	}
}

// deliverBatch makes the job's queued attempts and records their outcomes together, in one transaction. The
// attempts start in waves of sendConcurrency, each wave marked started just before its gateway calls: a
// node killed mid-batch leaves the attempts of the waves it had started with an unknown outcome (the
// rerun records them interrupted, and sends none twice) and puts back those of the waves it had not. An
// outcome recorded per wave would keep the earlier waves' outcomes through a kill, but the campaign
// bench measured it at 2.0–3.0k transmissions/s against 4.1k with one record per batch.
func (s *Service) deliverBatch(ctx context.Context, jobID int64, batch []ictcore.Spool) error {
	r, err := s.newReads(ctx, batch)
	if err != nil {
		return err // none started: they stay queued for the job's rerun
	}
	var (
		ended    []ictcore.Ended
		ready    []*attempt
		back     []int64 // never attempted: back to the queue
		answered []answeredCall
		stopErr  error
	)
	for i := range batch {
		sp := &batch[i]
		if stopErr != nil {
			back = append(back, sp.ID)
			continue
		}
		a, err := s.prepare(ctx, r, sp)
		switch k := models.KindOf(err); {
		case err == nil:
			ready = append(ready, a)
		case k == models.Invalid || k == models.NotFound:
			msg := models.Message(err)
			ended = append(ended, ictcore.Ended{SpoolID: sp.ID, Outcome: ictcore.Outcome{Status: ictcore.SpoolInvalid, Reason: msg,
				Response: msg, Results: []ictcore.SpoolResult{{Type: "error", Name: "reason", Data: msg}}}})
		default:
			stopErr = err // the store failed: this attempt and the ones after it go back to the queue
			back = append(back, sp.ID)
		}
	}
	if stopErr == nil {
		var barred []ictcore.Ended
		if ready, barred, stopErr = s.screen(ctx, ready); stopErr != nil {
			for _, a := range ready {
				back = append(back, a.spoolID)
			}
			ready = nil
		}
		ended = append(ended, barred...)
	}
	for len(ready) > 0 {
		wave := ready[:min(len(ready), sendConcurrency)]
		ready = ready[len(wave):]
		if stopErr == nil && ctx.Err() == nil {
			waveIDs := make([]int64, len(wave))
			for i, a := range wave {
				waveIDs[i] = a.spoolID
			}
			stopErr = ictcore.StartSpools(ctx, s.db, jobID, waveIDs)
		}
		if stopErr != nil || ctx.Err() != nil {
			for _, a := range wave {
				back = append(back, a.spoolID)
			}
			continue
		}
		outs := make([]*ictcore.Ended, len(wave))
		results := make([]gateway.Result, len(wave))
		var wg sync.WaitGroup
		for i, a := range wave {
			wg.Go(func() {
				res, sendErr := a.gw.Send(ctx, a.msg)
				if sendErr != nil && ctx.Err() != nil {
					// Stopped before the gateway could finish. The simulator gave up whole, so the
					// attempt goes back; a real far end may have the message already, so it is
					// interrupted rather than sent again.
					if _, sim := a.gw.(*gateway.Simulator); !sim {
						outs[i] = &ictcore.Ended{SpoolID: a.spoolID, Outcome: interrupted(a.providerID, a.gw.Name())}
					}
					return
				}
				outs[i] = &ictcore.Ended{SpoolID: a.spoolID, Outcome: a.outcome(res, sendErr)}
				results[i] = res
			})
		}
		wg.Wait()
		for i, o := range outs {
			switch {
			case o == nil:
				back = append(back, wave[i].spoolID)
			default:
				ended = append(ended, *o)
				if o.Outcome.Connected && wave[i].msg.Service == gateway.Voice {
					answered = append(answered, answeredCall{wave[i], results[i].Duration})
				}
			}
		}
	}
	s.requeue(ctx, back)
	if err := s.finish(ctx, ended); err != nil {
		return err
	}
	s.publishAnswered(ctx, answered)
	if stopErr != nil {
		return stopErr
	}
	if len(back) > 0 {
		return ctx.Err() // stopped: the job runs again and makes the attempts put back
	}
	return nil
}

// answeredCall is a voice attempt the far end answered, and how long the call lasted.
type answeredCall struct {
	a        *attempt
	duration time.Duration
}

// publishAnswered publishes each answered voice call as two call events, answered and ended, once its
// outcome is recorded. The call's id is its spool's, so a rerun of the job publishes nothing twice. A
// failure is logged, not retried: the attempt's own record is already safe, and a node killed between the
// two steps loses only the events (Switchboard: ICTCore-made calls publish at most once).
func (s *Service) publishAnswered(ctx context.Context, calls []answeredCall) {
	if s.events == nil || len(calls) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, c := range calls {
		vars := map[string]string{"spool_id": strconv.FormatInt(c.a.spoolID, 10), "duration_ms": strconv.FormatInt(c.duration.Milliseconds(), 10)}
		if c.a.campaignID != 0 {
			vars["campaign_id"] = strconv.FormatInt(c.a.campaignID, 10)
		}
		for _, state := range []string{events.Answered, events.Ended} {
			e := events.CallEvent{UniqueID: "ictcore-spool-" + strconv.FormatInt(c.a.spoolID, 10), Direction: events.Outbound,
				Phone: c.a.msg.To, State: state, Source: "ictcore", Variables: vars}
			if _, _, err := s.events.Publish(ctx, e); err != nil {
				s.log.WarnContext(ctx, "call event of an answered voice call not published", "spool", c.a.spoolID, "state", state, "error", err)
			}
		}
	}
}

// screen takes out of ready the attempts to numbers on a do-not-call list that applies to them (a global
// list, or one attached to their campaign) and answers them ended, failed with the list's name and not
// retried: never dialled. It checks at the attempt rather than at a campaign's release, so a number
// listed after its release is still not dialled and single sends honour the global lists. E-mail is not
// screened. One lookup per campaign in the batch; its error is the store's.
func (s *Service) screen(ctx context.Context, ready []*attempt) ([]*attempt, []ictcore.Ended, error) {
	phones := map[int64][]string{} // campaign → numbers
	for _, a := range ready {
		if a.msg.Service != gateway.Email {
			phones[a.campaignID] = append(phones[a.campaignID], a.msg.To)
		}
	}
	listed := map[int64]map[string]string{}
	for campaign, ps := range phones {
		hits, err := platform.DoNotCall(ctx, s.db, s.region, campaign, ps)
		if err != nil {
			return ready, nil, err
		}
		listed[campaign] = hits
	}
	kept := ready[:0:0]
	var barred []ictcore.Ended
	for _, a := range ready {
		list, ok := "", false
		if a.msg.Service != gateway.Email {
			list, ok = listed[a.campaignID][a.msg.To]
		}
		if !ok {
			kept = append(kept, a)
			continue
		}
		why := fmt.Sprintf("do not call: %s is on the do-not-call list %q; not dialled", a.msg.To, list)
		barred = append(barred, ictcore.Ended{SpoolID: a.spoolID, Outcome: ictcore.Outcome{Status: ictcore.SpoolFailed,
			Reason: why, Response: "do not call", NoRetry: true, Results: []ictcore.SpoolResult{{Type: "error", Name: "reason", Data: why}}}})
	}
	return kept, barred, nil
}

// requeue puts started spools whose attempts were not made back in the queue; a failure only delays
// them (a rerun finds them interrupted).
func (s *Service) requeue(ctx context.Context, ids []int64) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := ictcore.RequeueSpools(ctx, s.db, ids); err != nil {
		s.log.WarnContext(ctx, "attempts not put back in the queue", "spools", len(ids), "error", err)
	}
}

// finish records the outcomes, trying again for a while when the store is busy: the outcomes are known
// only to this run, and a rerun of the job would find the attempts interrupted.
func (s *Service) finish(ctx context.Context, ended []ictcore.Ended) error {
	ctx = context.WithoutCancel(ctx) // the attempts are made: record them even when the node is stopping
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := ictcore.FinishAttempts(ctx, s.db, ended, s.retry)
		if err == nil || models.KindOf(err) != models.Busy || try == 6 {
			return err
		}
		time.Sleep(wait)
		wait *= 2
	}
}

// reads are a batch's reads: its transmissions and contacts loaded together (by transmission id), and
// the programs, messages, accounts and providers they share read once each.
type reads struct {
	targets    map[int64]*ictcore.Target
	programs   memo[ictcore.Program]
	accounts   memo[ictcore.Account]
	texts      memo[ictcore.Text]
	templates  memo[ictcore.Template]
	documents  memo[ictcore.Document]
	recordings memo[ictcore.Recording]
	providers  map[int]*ictcore.Provider // by service; nil: the simulator
}

func (s *Service) newReads(ctx context.Context, batch []ictcore.Spool) (*reads, error) {
	tids := make([]int64, len(batch))
	for i, sp := range batch {
		tids[i] = sp.TransmissionID
	}
	ts, err := ictcore.AttemptTargets(ctx, s.db, tids)
	if err != nil {
		return nil, err
	}
	return &reads{targets: ts, providers: map[int]*ictcore.Provider{}}, nil
}

// memo reads each id once; a miss (NotFound) is remembered too.
type memo[T any] map[int64]memoed[T]

type memoed[T any] struct {
	v   *T
	err error
}

func (m *memo[T]) get(id int64, load func(int64) (*T, error)) (*T, error) {
	if *m == nil {
		*m = memo[T]{}
	}
	if e, ok := (*m)[id]; ok {
		return e.v, e.err
	}
	v, err := load(id)
	if err != nil && models.KindOf(err) != models.NotFound {
		return nil, err // a store failure is not remembered
	}
	(*m)[id] = memoed[T]{v, err}
	return v, err
}

// attempt is a message ready to go and the gateway that carries it.
type attempt struct {
	spoolID    int64
	campaignID int64 // 0: not a campaign's
	msg        gateway.Message
	gw         gateway.Gateway
	providerID *int64
	provider   string // "id name", for the results
}

// invalid is the error of a transmission whose message cannot be built: it is not retried.
func invalid(format string, args ...any) error { return models.Errorf(models.Invalid, format, args...) }

// prepare builds the message of spool sp from its transmission's program and picks its gateway. What
// cannot be built (a deleted program, message or contact; no recipient) answers an Invalid error.
func (s *Service) prepare(ctx context.Context, r *reads, sp *ictcore.Spool) (*attempt, error) {
	t := r.targets[sp.TransmissionID]
	if t == nil {
		return nil, invalid("transmission %d was deleted", sp.TransmissionID)
	}
	p, err := r.programs.get(t.ProgramID, func(id int64) (*ictcore.Program, error) {
		return ictcore.GetProgram(ctx, s.db, ictcore.AnyOwner, id)
	})
	if models.KindOf(err) == models.NotFound {
		return nil, invalid("program %d was deleted", t.ProgramID)
	}
	if err != nil {
		return nil, err
	}
	c := t.Contact
	if c == nil {
		return nil, invalid("contact %d was deleted", t.ContactID)
	}
	var from *ictcore.Account
	if t.AccountID != nil {
		if from, err = r.accounts.get(*t.AccountID, func(id int64) (*ictcore.Account, error) {
			return ictcore.GetAccount(ctx, s.db, ictcore.AnyOwner, id)
		}); err != nil && models.KindOf(err) != models.NotFound {
			return nil, err
		}
	}
	a := &attempt{spoolID: sp.ID, campaignID: deref(t.CampaignID), msg: gateway.Message{Ref: "spool " + strconv.FormatInt(sp.ID, 10)}}
	if err := s.compose(ctx, r, &a.msg, p, c, from); err != nil {
		return nil, err
	}
	prov, ok := r.providers[int(a.msg.Service)]
	if !ok {
		if prov, err = ictcore.DeliveryProvider(ctx, s.db, int(a.msg.Service)); err != nil {
			return nil, err
		}
		r.providers[int(a.msg.Service)] = prov
	}
	a.gw = s.sim
	if prov != nil {
		a.providerID, a.provider = &prov.ID, fmt.Sprintf("%d %s", prov.ID, prov.Name)
		gw, err := ProviderGateway(prov, s.sim)
		if err != nil {
			a.gw = broken{err.Error()}
		} else {
			a.gw = gw
		}
	}
	return a, nil
}

// compose fills m from program p for contact c, sent as account from (nil: the gateway's sender).
func (s *Service) compose(ctx context.Context, r *reads, m *gateway.Message, p *ictcore.Program, c *ictcore.Contact, from *ictcore.Account) error {
	switch p.Type {
	case "sendsms":
		m.Service = gateway.SMS
		t, err := r.texts.get(deref(p.TextID), func(id int64) (*ictcore.Text, error) {
			return ictcore.GetText(ctx, s.db, ictcore.AnyOwner, id)
		})
		if err != nil {
			return gone(err, "text", deref(p.TextID), p.ID)
		}
		m.Body = t.Data
	case "sendemail":
		m.Service = gateway.Email
		t, err := r.templates.get(deref(p.TemplateID), func(id int64) (*ictcore.Template, error) {
			return ictcore.GetTemplate(ctx, s.db, ictcore.AnyOwner, id)
		})
		if err != nil {
			return gone(err, "template", deref(p.TemplateID), p.ID)
		}
		// The gateways send plain text: the template's plain-text body when it has one, else its body.
		m.Subject, m.Body = t.Subject, t.Body
		if t.BodyAlt != "" {
			m.Body = t.BodyAlt
		}
		if t.MediaSize > 0 {
			m.Attachments = []gateway.Attachment{s.attachment(ictcore.TemplateMedia, t.ID, t.Name, t.Type, t.MediaType)}
		}
	case "sendfax":
		m.Service = gateway.Fax
		d, err := r.documents.get(deref(p.DocumentID), func(id int64) (*ictcore.Document, error) {
			return ictcore.GetDocument(ctx, s.db, ictcore.AnyOwner, id)
		})
		if err != nil {
			return gone(err, "document", deref(p.DocumentID), p.ID)
		}
		if d.MediaSize == 0 {
			return invalid("document %d of program %d has no file to fax", d.ID, p.ID)
		}
		m.Attachments = []gateway.Attachment{s.attachment(ictcore.DocumentMedia, d.ID, d.Name, d.Type, d.MediaType)}
	case "voicemessage":
		m.Service = gateway.Voice
		r, err := r.recordings.get(deref(p.RecordingID), func(id int64) (*ictcore.Recording, error) {
			return ictcore.GetRecording(ctx, s.db, ictcore.AnyOwner, id)
		})
		if err != nil {
			return gone(err, "recording", deref(p.RecordingID), p.ID)
		}
		if r.MediaSize == 0 {
			return invalid("recording %d of program %d has no file to play", r.ID, p.ID)
		}
		m.Attachments = []gateway.Attachment{s.attachment(ictcore.RecordingMedia, r.ID, r.Name, r.Type, r.MediaType)}
	case "voicetts":
		m.Service, m.Body = gateway.Voice, p.Text
	default:
		return invalid("program %d is a %s program, which receives: it has nothing to send", p.ID, p.Type)
	}
	if m.Service == gateway.Email {
		if c.Email == "" || !ictcore.ValidEmail(c.Email) {
			return invalid("contact %d has no valid e-mail address", c.ID)
		}
		m.To = c.Email
		if from != nil && ictcore.ValidEmail(from.Email) {
			m.From = from.Email
		}
		return nil
	}
	if c.Phone == "" {
		return invalid("contact %d has no phone number", c.ID)
	}
	if err := (&ictcore.Contact{Phone: c.Phone}).Check(); err != nil {
		return invalid("contact %d: %s", c.ID, models.Message(err))
	}
	m.To = c.Phone
	if from != nil && from.Phone != "" {
		m.From = from.Phone
	}
	return nil
}

// gone turns a missing message of program p into Invalid ("text 4 of program 2 was deleted").
func gone(err error, noun string, id, program int64) error {
	if models.KindOf(err) == models.NotFound {
		return invalid("%s %d of program %d was deleted", noun, id, program)
	}
	return err
}

// attachment streams a message's file from the blob store when the gateway sends it.
func (s *Service) attachment(kind string, id int64, name, typ, mediaType string) gateway.Attachment {
	if typ != "" {
		name += "." + typ
	}
	return gateway.Attachment{Name: name, ContentType: mediaType, Open: func(ctx context.Context) (io.ReadCloser, error) {
		return s.blobs.Open(ctx, ictcore.MediaKey(kind, id))
	}}
}

// ProviderGateway answers the gateway an ICTCore provider's settings build (the simulator for what it
// simulates); the error says why they build none, in words safe to show (no credentials).
func ProviderGateway(prov *ictcore.Provider, sim *gateway.Simulator) (gateway.Gateway, error) {
	gw, err := gateway.FromProvider(gateway.ProviderConfig{Type: prov.Type, Host: prov.Host, Port: prov.Port,
		Username: prov.Username, Password: prov.Password, Prefix: prov.Prefix, Settings: prov.Settings}, sim)
	if err != nil {
		return nil, fmt.Errorf("provider %d (%s) cannot deliver: %s", prov.ID, prov.Name, models.Message(err))
	}
	return gw, nil
}

// broken stands in for a provider whose settings no longer build a gateway: every attempt fails, saying
// why, until an admin fixes the provider.
type broken struct{ reason string }

func (b broken) Name() string { return "provider" }

func (b broken) Send(context.Context, gateway.Message) (gateway.Result, error) {
	return gateway.Result{Status: gateway.Failed, Reason: b.reason}, nil
}

// outcome turns the gateway's answer into the attempt's outcome and its results.
func (a *attempt) outcome(res gateway.Result, err error) ictcore.Outcome {
	out := ictcore.Outcome{ProviderID: a.providerID, Gateway: a.gw.Name()}
	add := func(typ, name, data string) {
		if data != "" {
			out.Results = append(out.Results, ictcore.SpoolResult{Type: typ, Name: name, Data: data})
		}
	}
	add("application", "gateway", a.gw.Name())
	add("application", "provider", a.provider)
	add("contact", "to", a.msg.To)
	if err != nil {
		out.Status, out.Reason, out.Response = ictcore.SpoolFailed, err.Error(), err.Error()
		add("info", "status", "error")
		add("error", "reason", out.Reason)
		return out
	}
	add("info", "status", string(res.Status))
	add("message", "response", res.Response)
	if res.Simulated {
		add("info", "simulated", "true")
	}
	add("info", "duration_ms", strconv.FormatInt(res.Duration.Milliseconds(), 10))
	switch res.Status {
	case gateway.Delivered:
		out.Status, out.Response = ictcore.SpoolCompleted, res.Response
		out.Connected = a.msg.Service == gateway.Voice || a.msg.Service == gateway.Fax
		return out
	case gateway.NoAnswer, gateway.Busy:
		out.Response = string(res.Status)
	default:
		out.Response = res.Response
		if out.Response == "" {
			out.Response = res.Reason
		}
	}
	out.Status, out.Reason = ictcore.SpoolFailed, res.Reason
	if out.Reason == "" {
		out.Reason = string(res.Status)
	}
	add("error", "reason", out.Reason)
	return out
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
