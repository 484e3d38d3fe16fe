package ucontact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/convert"
	"switchboard/gateway"
	"switchboard/gen/ucontactapi"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/models/platform"
	"switchboard/models/ucontact"
)

// The dialer (openapi/ucontact.yaml, global decisions): every record DialerTask, ScheduleDialerCall,
// Dialers/uploadbase, Webcallback or a disposition's reschedule makes is a row of ucontact_calls, stored
// in one transaction with its job (dialArgs) scheduled at the record's calldate. The job claims the row
// (pending → dialing), skips a number on a global do-not-call list, places the call through the voice
// simulator, records the outcome, and publishes an answered call's events. Left out: alternatives are
// stored but not dialled, campaigns have no pacing, calling hours or retries of unanswered calls (the
// ICTCore dialer's campaigns have them; uContact's records are single calls).

// dialArgs is the job of one dialer call.
type dialArgs struct {
	CallID int64 `json:"call_id"`
}

func (dialArgs) Kind() string { return "ucontact_dial" }

// InsertOpts: a call whose attempt could not be made (the node stopped mid-call) is tried again a few times.
func (dialArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

type dialWorker struct {
	river.WorkerDefaults[dialArgs]
	h *Handler
}

func (w *dialWorker) Work(ctx context.Context, job *river.Job[dialArgs]) error {
	return w.h.dial(ctx, job.Args.CallID, job.Attempt, job.MaxAttempts)
}

// registerWorkers adds the dialer's and the SMS bases' workers to the queue (before it starts).
func (h *Handler) registerWorkers() {
	if h.queue == nil {
		return
	}
	river.AddWorker(h.queue.Workers(), &dialWorker{h: h})
	river.AddWorker(h.queue.Workers(), &smsWorker{h: h})
}

// enqueueCalls inserts the jobs of calls just stored, in their transaction, each scheduled at its calldate.
func (h *Handler) enqueueCalls(tx *gorm.DB, calls []ucontact.Call) error {
	if h.queue == nil {
		return errNoQueue
	}
	now := time.Now()
	params := make([]river.InsertManyParams, len(calls))
	for i, c := range calls {
		params[i] = river.InsertManyParams{Args: dialArgs{CallID: c.ID}}
		// A job given a time waits for River's scheduler (a few seconds) even when that time has come:
		// only a call for later is scheduled, the others are available at once.
		if at := time.Unix(c.CallDate, 0); at.After(now) {
			params[i].InsertOpts = &river.InsertOpts{ScheduledAt: at}
		}
	}
	return h.queue.InsertManyTx(tx, params)
}

var errNoQueue = models.Errorf(models.Busy, "the job queue is not running on this node")

// dial makes one dialer call: claimed once (a rerun after a crash mid-call records it failed rather than
// dialling twice), screened against the global do-not-call lists, placed through the voice simulator.
func (h *Handler) dial(ctx context.Context, id int64, attempt, maxAttempts int) error {
	c, err := ucontact.GetCall(ctx, h.db, id)
	if models.KindOf(err) == models.NotFound {
		return nil // nothing to dial
	}
	if err != nil {
		return err
	}
	switch c.Status {
	case ucontact.CallPending:
	case ucontact.CallDialing:
		// A node was killed while this call was being placed: its outcome is unknown. Not dialled again.
		_, err := ucontact.SetCallStatus(ctx, h.db, id, ucontact.CallDialing, ucontact.CallFailed, "interrupted while dialling; outcome unknown, not dialled again")
		return err
	default:
		return nil // ended already, or canceled with its campaign
	}
	listed, err := platform.DoNotCall(ctx, h.db, h.region, 0, []string{c.Destination})
	if err != nil {
		return err
	}
	if list, ok := listed[c.Destination]; ok {
		_, err := ucontact.SetCallStatus(ctx, h.db, id, ucontact.CallPending, ucontact.CallDoNotCall,
			fmt.Sprintf("%s is on the do-not-call list %q; not dialled", c.Destination, list))
		return err
	}
	if ok, err := ucontact.SetCallStatus(ctx, h.db, id, ucontact.CallPending, ucontact.CallDialing, ""); err != nil || !ok {
		return err // !ok: canceled meanwhile
	}
	from := c.Source
	if from == "" {
		from = c.CallerID
	}
	res, sendErr := h.sim.Send(ctx, gateway.Message{Service: gateway.Voice, To: c.Destination, From: from, Ref: "ucontact call " + strconv.FormatInt(id, 10)})
	if sendErr != nil {
		if attempt < maxAttempts {
			// The attempt was never made (the node is stopping): back to pending, for the job's next try.
			if _, err := ucontact.SetCallStatus(context.WithoutCancel(ctx), h.db, id, ucontact.CallDialing, ucontact.CallPending, ""); err != nil {
				return err
			}
			return sendErr
		}
		_, err := ucontact.SetCallStatus(context.WithoutCancel(ctx), h.db, id, ucontact.CallDialing, ucontact.CallFailed, "the call could not be placed: "+sendErr.Error())
		return err
	}
	status := map[gateway.Status]string{gateway.Delivered: ucontact.CallAnswered, gateway.NoAnswer: ucontact.CallNoAnswer,
		gateway.Busy: ucontact.CallBusy}[res.Status]
	if status == "" {
		status = ucontact.CallFailed
	}
	ok, err := ucontact.SetCallStatus(context.WithoutCancel(ctx), h.db, id, ucontact.CallDialing, status, res.Reason)
	if err != nil || !ok || status != ucontact.CallAnswered {
		return err
	}
	// The outcome is recorded; the events of an answered call follow. A failure to publish is logged, not
	// retried: a call is never placed twice for its events (as ICTCore's answered calls).
	for _, state := range []string{events.Answered, events.Ended} {
		if err := h.publish(context.WithoutCancel(ctx), c, state); err != nil {
			h.log.WarnContext(ctx, "call event of an answered uContact dialer call not published", "call", id, "state", state, "error", err)
		}
	}
	return nil
}

// DialerTask (POST Dialers/DialerTask) queues one record, dialled at its calldate.
func (h *Handler) DialerTask(ctx context.Context, req ucontactapi.DialerTaskRequestObject) (ucontactapi.DialerTaskResponseObject, error) {
	var in struct {
		CallDate     *string   `json:"calldate"`
		Campaign     string    `json:"campaign"`
		Destination  string    `json:"destination"`
		Alternatives string    `json:"alternatives"`
		Agent        string    `json:"agent"`
		Data         string    `json:"data"`
		Source       string    `json:"source"`
		Bulk         flexBool  `json:"bulk"`
		Automatic    *flexBool `json:"automatic"`
	}
	if err := decodeJSON(req.Body.Call, "call", &in); err != nil {
		return nil, err
	}
	c := ucontact.Call{Origin: ucontact.OriginDialerTask, Destination: in.Destination, Alternatives: in.Alternatives, Agent: in.Agent,
		Data: in.Data, Source: in.Source, Bulk: bool(in.Bulk), Automatic: in.Automatic == nil || bool(*in.Automatic)}
	if err := h.queueOne(ctx, in.Campaign, in.CallDate, false, &c); err != nil {
		return nil, err
	}
	return ucontactapi.DialerTask200TextResponse("1"), nil
}

// ScheduleDialerCall (POST Dialers/ScheduleDialerCall) queues one record at its (required) calldate.
func (h *Handler) ScheduleDialerCall(ctx context.Context, req ucontactapi.ScheduleDialerCallRequestObject) (ucontactapi.ScheduleDialerCallResponseObject, error) {
	var in struct {
		CallDate     *string `json:"calldate"`
		Campaign     string  `json:"campaign"`
		Destination  string  `json:"destination"`
		Alternatives string  `json:"alternatives"`
		AgentPhone   string  `json:"agentphone"`
		Data         string  `json:"data"`
	}
	if err := decodeJSON(req.Body.Callschedule, "callschedule", &in); err != nil {
		return nil, err
	}
	c := ucontact.Call{Origin: ucontact.OriginSchedule, Destination: in.Destination, Alternatives: in.Alternatives, Agent: in.AgentPhone,
		Data: in.Data, Automatic: true}
	if err := h.queueOne(ctx, in.Campaign, in.CallDate, true, &c); err != nil {
		return nil, err
	}
	return ucontactapi.ScheduleDialerCall200TextResponse("1"), nil
}

// Webcallback (POST Dialers/Webcallback) queues a call back to a web site's visitor.
func (h *Handler) Webcallback(ctx context.Context, req ucontactapi.WebcallbackRequestObject) (ucontactapi.WebcallbackResponseObject, error) {
	b := req.Body
	data := convert.Deref(b.Data)
	if name := convert.Deref(b.Name); name != "" {
		if strings.ContainsAny(name, ":=") {
			return nil, models.Errorf(models.Invalid, "name %q: a name holds no ':' or '='", name)
		}
		data = strings.TrimPrefix(data+":name="+name, ":")
	}
	c := ucontact.Call{Origin: ucontact.OriginWebcallback, Destination: b.Phone, Data: data, Automatic: true}
	if err := h.queueOne(ctx, b.Campaign, b.Calldate, false, &c); err != nil {
		return nil, err
	}
	return ucontactapi.Webcallback200TextResponse("1"), nil
}

// UploadBase (POST Dialers/uploadbase) stores every record of a base as a dialer call, all or nothing.
func (h *Handler) UploadBase(ctx context.Context, req ucontactapi.UploadBaseRequestObject) (ucontactapi.UploadBaseResponseObject, error) {
	b := req.Body
	recs, err := ucontact.ParseBase(ucontact.ChannelTelephony, b.Campaign, b.Fileb64, b.Cant)
	if err != nil {
		return nil, err
	}
	camp, err := ucontact.FindCampaign(ctx, h.db, b.Campaign, ucontact.ChannelTelephony)
	if err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	calls := make([]ucontact.Call, len(recs))
	for i, r := range recs {
		calls[i] = ucontact.Call{Origin: ucontact.OriginUpload, Destination: r.Phone, Data: r.Variables, Alternatives: r.Alternatives,
			Ref: r.Ref, CallerID: camp.CallerID, CallDate: now, Automatic: true, CreatedBy: caller(ctx)}
	}
	up := &ucontact.Upload{Filename: convert.Deref(b.Filename), Username: convert.Deref(b.Username), CreatedBy: caller(ctx)}
	if err := ucontact.QueueBase(ctx, h.db, up, camp, calls, h.enqueueCalls); err != nil {
		return nil, err
	}
	return ucontactapi.UploadBase200TextResponse("1"), nil
}

// phoneNumber is what the dialer dials: digits, with an optional leading +.
var phoneNumber = regexp.MustCompile(`^\+?[0-9]{1,31}$`)

// queueOne checks one record (campaign of the telephony channel, destination, alternatives, data),
// reads its calldate (required or not) and queues it.
func (h *Handler) queueOne(ctx context.Context, campaign string, calldate *string, dateRequired bool, c *ucontact.Call) error {
	switch {
	case campaign == "":
		return models.Errorf(models.Invalid, "campaign is required")
	case !phoneNumber.MatchString(c.Destination):
		return models.Errorf(models.Invalid, "destination %q is not a number (digits, an optional leading +)", c.Destination)
	case dateRequired && (calldate == nil || *calldate == ""):
		return models.Errorf(models.Invalid, "calldate is required")
	case len(c.Destination) > 64 || len(c.Agent) > 255 || len(c.Source) > 64 || len(c.Alternatives) > 2000 || len(c.Data) > 2000:
		return models.Errorf(models.Invalid, "a value is too long (agent 255, source 64, alternatives and data 2000 bytes)")
	}
	for item := range strings.SplitSeq(c.Alternatives, ":") {
		if item != "" && !phoneNumber.MatchString(strings.TrimSpace(item)) {
			return models.Errorf(models.Invalid, "alternative %q is not a number", item)
		}
	}
	at, err := h.callDate(convert.Deref(calldate), "calldate")
	if err != nil {
		return err
	}
	camp, err := ucontact.FindCampaign(ctx, h.db, campaign, ucontact.ChannelTelephony)
	if err != nil {
		return err
	}
	c.CallDate, c.CreatedBy = at, caller(ctx)
	if c.CallerID == "" {
		c.CallerID = camp.CallerID
	}
	return ucontact.QueueCalls(ctx, h.db, camp, []ucontact.Call{*c}, h.enqueueCalls)
}

// noDate is the vendor's "no date": dial now.
const noDate = "1900-01-01 00:00:00"

// callDate reads a `YYYY-MM-DD HH:MM:SS` in the server's schedule zone; empty (or the vendor's 1900 date)
// is now. A time already past is dialled at once.
func (h *Handler) callDate(s, field string) (int64, error) {
	now := time.Now().Unix()
	if s == "" || s == noDate {
		return now, nil
	}
	t, err := time.ParseInLocation(time.DateTime, s, h.zone)
	if err != nil {
		return 0, models.Errorf(models.Invalid, "%s %q: want YYYY-MM-DD HH:MM:SS", field, s)
	}
	return max(t.Unix(), now), nil
}

// decodeJSON reads one JSON object from a form field (keys not in v are ignored); anything else is
// Invalid, naming the field.
func decodeJSON(s, field string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(v); err != nil {
		return models.Errorf(models.Invalid, "%s is not a JSON object with the documented keys: %v", field, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return models.Errorf(models.Invalid, "%s has data after its JSON object", field)
	}
	return nil
}

// flexBool is a boolean sent as JSON true/false, or as the strings "true"/"false"/"1"/"0" (or null: false).
type flexBool bool

func (b *flexBool) UnmarshalJSON(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		*b = false
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%s is not a boolean", raw)
	}
	*b = flexBool(v)
	return nil
}
