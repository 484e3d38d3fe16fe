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
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/blob"
	"switchboard/gateway"
	"switchboard/models"
	"switchboard/models/ictcore"
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
	schedules           *schedules.Service
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
	s := &Service{db: c.DB, blobs: c.Blobs, queue: c.Queue, log: c.Log, sim: sim,
		retryDelay: c.RetryDelay, maxWait: c.RetryMaxDelay, schedules: c.Schedules}
	if s.retryDelay <= 0 {
		s.retryDelay = DefaultRetryDelay
	}
	if s.maxWait <= 0 {
		s.maxWait = DefaultRetryMaxDelay
	}
	s.maxWait = max(s.maxWait, s.retryDelay)
	river.AddWorker(c.Queue.Workers(), &deliverWorker{s: s})
	river.AddWorker(c.Queue.Workers(), &retryWorker{s: s})
	if s.schedules != nil {
		s.schedules.Handle(ictcore.ActionSend, func(ctx context.Context, tx *gorm.DB, sc *ictcore.Schedule) error {
			_, err := ictcore.SendTransmission(ctx, tx, ictcore.AnyOwner, sc.TargetID, s.enqueue)
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
// the attempt itself happens on the queue.
func (s *Service) Send(ctx context.Context, o ictcore.Owner, transmissionID int64) (int64, error) {
	sp, err := ictcore.SendTransmission(ctx, s.db, o, transmissionID, s.enqueue)
	if err != nil {
		return 0, err
	}
	return sp.ID, nil
}

func (s *Service) enqueue(tx *gorm.DB, spoolID int64) error {
	return s.queue.InsertTx(tx, deliverArgs{SpoolID: spoolID}, nil)
}

// The jobs.

// deliverArgs is the job of one attempt.
type deliverArgs struct {
	SpoolID int64 `json:"spool_id"`
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
	return w.s.deliver(ctx, job.Args.SpoolID)
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
	_, err := ictcore.RetryTransmission(ctx, w.s.db, job.Args.TransmissionID, job.Args.TryDone, w.s.enqueue)
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

// One attempt.

// deliver makes the attempt of spool id. It answers an error only when the store failed; River runs the
// job again then.
func (s *Service) deliver(ctx context.Context, id int64) error {
	sp, claim, err := ictcore.ClaimSpool(ctx, s.db, id)
	if err != nil {
		return err
	}
	switch claim {
	case ictcore.Gone, ictcore.Finished:
		return nil
	case ictcore.Interrupted:
		const why = "interrupted: the node stopped during the attempt, so whether it was delivered is unknown; not retried automatically"
		return s.finish(ctx, id, ictcore.Outcome{Status: ictcore.SpoolFailed, Reason: why, Response: "interrupted", NoRetry: true,
			Results: []ictcore.SpoolResult{{Type: "error", Name: "reason", Data: why}}})
	}
	a, err := s.prepare(ctx, sp)
	if err != nil {
		if k := models.KindOf(err); k == models.Invalid || k == models.NotFound {
			msg := models.Message(err)
			return s.finish(ctx, id, ictcore.Outcome{Status: ictcore.SpoolInvalid, Reason: msg, Response: msg,
				Results: []ictcore.SpoolResult{{Type: "error", Name: "reason", Data: msg}}})
		}
		s.requeue(ctx, id)
		return err
	}
	res, sendErr := a.gw.Send(ctx, a.msg)
	if sendErr != nil && ctx.Err() != nil {
		// Stopped (or out of time) before the gateway could finish: the gateway gave up on the attempt,
		// so it goes back to the queue and the job's next run makes it.
		s.requeue(ctx, id)
		return sendErr
	}
	return s.finish(ctx, id, a.outcome(res, sendErr))
}

// requeue puts the claimed spool back; a failure only delays it (the next run finds it interrupted).
func (s *Service) requeue(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := ictcore.RequeueSpool(ctx, s.db, id); err != nil {
		s.log.WarnContext(ctx, "attempt not put back in the queue", "spool_id", id, "error", err)
	}
}

// finish records the outcome, trying again for a while when the store is busy: the outcome is known
// only to this run, and a later run of the job would find the attempt interrupted.
func (s *Service) finish(ctx context.Context, id int64, out ictcore.Outcome) error {
	ctx = context.WithoutCancel(ctx) // the attempt is made: record it even when the node is stopping
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := ictcore.FinishAttempt(ctx, s.db, id, out, s.retry)
		if err == nil || models.KindOf(err) != models.Busy || try == 6 {
			return err
		}
		time.Sleep(wait)
		wait *= 2
	}
}

// attempt is a message ready to go and the gateway that carries it.
type attempt struct {
	msg        gateway.Message
	gw         gateway.Gateway
	providerID *int64
	provider   string // "id name", for the results
}

// invalid is the error of a transmission whose message cannot be built: it is not retried.
func invalid(format string, args ...any) error { return models.Errorf(models.Invalid, format, args...) }

// prepare builds the message of spool sp from its transmission's program and picks its gateway. What
// cannot be built (a deleted program, message or contact; no recipient) answers an Invalid error.
func (s *Service) prepare(ctx context.Context, sp *ictcore.Spool) (*attempt, error) {
	t, err := ictcore.GetTransmission(ctx, s.db, ictcore.AnyOwner, sp.TransmissionID)
	if models.KindOf(err) == models.NotFound {
		return nil, invalid("transmission %d was deleted", sp.TransmissionID)
	}
	if err != nil {
		return nil, err
	}
	p, err := ictcore.GetProgram(ctx, s.db, ictcore.AnyOwner, t.ProgramID)
	if models.KindOf(err) == models.NotFound {
		return nil, invalid("program %d was deleted", t.ProgramID)
	}
	if err != nil {
		return nil, err
	}
	c, err := ictcore.GetContact(ctx, s.db, ictcore.AnyOwner, t.ContactID)
	if models.KindOf(err) == models.NotFound {
		return nil, invalid("contact %d was deleted", t.ContactID)
	}
	if err != nil {
		return nil, err
	}
	var from *ictcore.Account
	if t.AccountID != nil {
		if from, err = ictcore.GetAccount(ctx, s.db, ictcore.AnyOwner, *t.AccountID); err != nil && models.KindOf(err) != models.NotFound {
			return nil, err
		}
	}
	a := &attempt{msg: gateway.Message{Ref: "spool " + strconv.FormatInt(sp.ID, 10)}}
	if err := s.compose(ctx, &a.msg, p, c, from); err != nil {
		return nil, err
	}
	prov, err := ictcore.DeliveryProvider(ctx, s.db, int(a.msg.Service))
	if err != nil {
		return nil, err
	}
	a.gw = s.sim
	if prov != nil {
		a.providerID, a.provider = &prov.ID, fmt.Sprintf("%d %s", prov.ID, prov.Name)
		gw, err := gateway.FromProvider(gateway.ProviderConfig{Type: prov.Type, Host: prov.Host, Port: prov.Port,
			Username: prov.Username, Password: prov.Password, Prefix: prov.Prefix, Settings: prov.Settings}, s.sim)
		if err != nil {
			a.gw = broken{fmt.Sprintf("provider %d (%s) cannot deliver: %s", prov.ID, prov.Name, models.Message(err))}
		} else {
			a.gw = gw
		}
	}
	return a, nil
}

// compose fills m from program p for contact c, sent as account from (nil: the gateway's sender).
func (s *Service) compose(ctx context.Context, m *gateway.Message, p *ictcore.Program, c *ictcore.Contact, from *ictcore.Account) error {
	switch p.Type {
	case "sendsms":
		m.Service = gateway.SMS
		t, err := ictcore.GetText(ctx, s.db, ictcore.AnyOwner, deref(p.TextID))
		if err != nil {
			return gone(err, "text", deref(p.TextID), p.ID)
		}
		m.Body = t.Data
	case "sendemail":
		m.Service = gateway.Email
		t, err := ictcore.GetTemplate(ctx, s.db, ictcore.AnyOwner, deref(p.TemplateID))
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
		d, err := ictcore.GetDocument(ctx, s.db, ictcore.AnyOwner, deref(p.DocumentID))
		if err != nil {
			return gone(err, "document", deref(p.DocumentID), p.ID)
		}
		if d.MediaSize == 0 {
			return invalid("document %d of program %d has no file to fax", d.ID, p.ID)
		}
		m.Attachments = []gateway.Attachment{s.attachment(ictcore.DocumentMedia, d.ID, d.Name, d.Type, d.MediaType)}
	case "voicemessage":
		m.Service = gateway.Voice
		r, err := ictcore.GetRecording(ctx, s.db, ictcore.AnyOwner, deref(p.RecordingID))
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
