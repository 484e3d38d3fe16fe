package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"switchboard/auth"
	"switchboard/gen/collectapi"
	"switchboard/models"
	"switchboard/models/collect"
	"switchboard/realtime"
)

// RunPlan (POST /api/v1/collect/app/runplan) runs a contact plan on one row: `start` on the socket, each
// prompt and its answer (`end` acknowledges it), then the plan's changes in one transaction. It blocks
// until the plan has finished (ambiguity 10). A run that fails (no socket for a plan that needs one, the
// socket closed, a prompt unanswered in time, cancelled at a prompt, a value the row refuses) writes
// nothing, marks its job failed with the reason and answers 422.
func (h *Handler) RunPlan(ctx context.Context, req collectapi.RunPlanRequestObject) (collectapi.RunPlanResponseObject, error) {
	p := auth.PrincipalFrom(ctx)
	s := collect.Scope{DatabaseID: p.DatabaseID}
	b := req.Body
	record, rowid := "", int64(0)
	for _, k := range []struct {
		name string
		v    *int64
	}{{"debtor", b.Debtor}, {"client", b.Client}, {"cosigner", b.Cosigner}, {"associate", b.Associate}} {
		if k.v == nil {
			continue
		}
		if record != "" {
			return nil, models.Errorf(models.Invalid, "name exactly one of debtor, client, cosigner, associate (got %s and %s)", record, k.name)
		}
		record, rowid = k.name, *k.v
	}
	if record == "" {
		return nil, models.Errorf(models.Invalid, "name exactly one of debtor, client, cosigner, associate")
	}
	wsid, conn, err := h.callerSocket(p, b.WebsocketId, req.Params.WebsocketId)
	if err != nil {
		return nil, err
	}
	plan, err := collect.FindPlan(ctx, h.db, s, b.Plan)
	if err != nil {
		return nil, err
	}
	if !plan.AppliesTo(record) {
		return nil, models.Errorf(models.Invalid, "plan %s does not apply to %s records (it applies to %s)", plan.Code, record, plan.Records)
	}
	def, err := collect.FindRecordDef(ctx, h.db, s, record)
	if err != nil {
		return nil, err
	}
	row, err := collect.GetRow(ctx, h.db, s, def, rowid, "")
	if err != nil {
		return nil, err
	}
	job, err := collect.StartJob(ctx, h.db, s, p.UserID, plan, record, rowid, wsid, h.runDeadline(plan, time.Now()))
	if err != nil {
		return nil, err
	}
	r := &run{h: h, job: job, plan: plan, def: def, conn: conn, current: row, changes: collect.Data{}}
	if reason := r.steps(ctx); reason != "" {
		return r.fail(ctx, s, reason)
	}
	if err := collect.CompleteJob(ctx, h.db, s, job, def, r.changes); err != nil {
		switch models.KindOf(err) {
		case models.Invalid, models.Conflict, models.NotFound:
			return r.fail(ctx, s, models.Message(err))
		}
		_ = collect.FailJob(ctx, h.db, s, job, "internal error: "+models.Message(err))
		return nil, err
	}
	return collectapi.RunPlan200JSONResponse{Status: collectapi.N200, Jobid: job.ID}, nil
}

// runSlack is what a run may take beside its prompts: the store's reads and its final write.
const runSlack = time.Minute

// runDeadline is when a run of plan started at now has ended at the latest: each of its prompts waits at
// most the prompt timeout. A job still running after it lost its node, and the sweep fails it.
func (h *Handler) runDeadline(plan *collect.Plan, now time.Time) time.Time {
	prompts := 0
	for _, st := range plan.Steps {
		if st.Type == collect.StepButton || st.Type == collect.StepForm {
			prompts++
		}
	}
	return now.Add(time.Duration(prompts)*h.prompts.timeout + runSlack)
}

// callerSocket answers the socket a runplan or runReport names (body or header, equal when both; "" and
// nil for none): an open socket of the caller's operator and database, else Invalid (ambiguity 6, 12).
func (h *Handler) callerSocket(p *auth.Principal, body, header *string) (string, *realtime.Conn, error) {
	wsid := ""
	if body != nil {
		wsid = *body
	}
	if header != nil {
		if wsid != "" && wsid != *header {
			return "", nil, models.Errorf(models.Invalid, "websocket-id: the header and the body name different sockets")
		}
		wsid = *header
	}
	if wsid == "" {
		return "", nil, nil
	}
	conn := h.prompts.hub.Get(wsid)
	o, _ := connOwner(conn)
	if o == nil || o.operatorID != p.UserID || o.databaseID != p.DatabaseID {
		return "", nil, models.Errorf(models.Invalid, "websocket-id %s is not an open WebSocket of this operator and database", wsid)
	}
	return wsid, conn, nil
}

// connOwner answers the owner of an open socket (nil, false for none).
func connOwner(c *realtime.Conn) (*socketOwner, bool) {
	if c == nil {
		return nil, false
	}
	o, ok := c.Owner().(*socketOwner)
	return o, ok
}

// run is one plan run.
type run struct {
	h       *Handler
	job     *collect.Job
	plan    *collect.Plan
	def     *collect.RecordDef
	conn    *realtime.Conn
	current collect.Data // the row as read
	changes collect.Data // what the run writes at its end
}

// fail marks the job failed and answers the 422.
func (r *run) fail(ctx context.Context, s collect.Scope, reason string) (collectapi.RunPlanResponseObject, error) {
	if err := collect.FailJob(ctx, r.h.db, s, r.job, reason); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("plan %s failed (job %s): %s; changes rolled back", r.plan.Code, r.job.ID, reason)
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
	}
	return collectapi.RunPlan422JSONResponse{JobFailedJSONResponse: collectapi.JobFailedJSONResponse{Status: 422, Message: msg}}, nil
}

// socket messages the server sends (collect-ws.yaml).
type startEnd struct {
	WebsocketID string `json:"websocket-id"`
	JobID       string `json:"jobid"`
	Type        string `json:"type"`
}

type buttonPromptMsg struct {
	WebsocketID string   `json:"websocket-id"`
	JobID       string   `json:"jobid"`
	Type        string   `json:"type"`
	Subtype     string   `json:"subtype"`
	Message     string   `json:"message,omitempty"`
	Buttons     []string `json:"buttons"`
}

type formPromptMsg struct {
	WebsocketID string            `json:"websocket-id"`
	JobID       string            `json:"jobid"`
	Type        string            `json:"type"`
	Subtype     string            `json:"subtype"`
	Message     string            `json:"message,omitempty"`
	FormID      string            `json:"formid"`
	Data        map[string]string `json:"data"`
}

// steps runs the plan's steps, collecting its changes; it answers why the run failed ("" when it did not).
func (r *run) steps(ctx context.Context) string {
	if r.plan.NeedsSocket && r.conn == nil {
		return "the plan needs a WebSocket and the request names none (websocket-id)"
	}
	if r.conn != nil && !r.send(startEnd{r.conn.ID, r.job.ID, "start"}) {
		return "the WebSocket closed"
	}
	for i, st := range r.plan.Steps {
		switch st.Type {
		case collect.StepSet:
			if r.def.Field(st.Field) == nil {
				return fmt.Sprintf("step %d: %s is not a field of record %s", i+1, st.Field, r.def.Name)
			}
			r.changes[st.Field] = st.Value
		case collect.StepButton, collect.StepForm:
			for _, f := range st.Fields {
				if r.def.Field(f) == nil {
					return fmt.Sprintf("step %d: %s is not a field of record %s", i+1, f, r.def.Name)
				}
			}
			a, why := r.prompt(ctx, st)
			if why != "" {
				return fmt.Sprintf("step %d: %s", i+1, why)
			}
			if slices.Contains(st.Cancel, *a.Button) {
				return fmt.Sprintf("step %d: cancelled by the operator (button %d)", i+1, *a.Button)
			}
			for _, f := range st.Fields {
				if v, ok := a.Data[f]; ok {
					r.changes[f] = v
				}
			}
		default:
			return fmt.Sprintf("step %d: type %s is not one Switchboard runs", i+1, st.Type)
		}
	}
	return ""
}

// send queues a message on the run's socket (false once the socket is gone).
func (r *run) send(v any) bool {
	b, err := json.Marshal(v)
	return err == nil && r.conn.Send(b)
}

// prompt sends one prompt and waits for its answer, the socket's end, the timeout or the request's end.
func (r *run) prompt(ctx context.Context, st collect.Step) (answer, string) {
	ps := r.h.prompts
	w := &waiting{socket: r.conn.ID, step: st, answer: make(chan answer, 1)}
	ps.mu.Lock()
	ps.waiting[r.job.ID] = w
	ps.mu.Unlock()
	defer func() {
		ps.mu.Lock()
		if ps.waiting[r.job.ID] == w {
			delete(ps.waiting, r.job.ID)
		}
		ps.mu.Unlock()
	}()
	var m any = buttonPromptMsg{WebsocketID: r.conn.ID, JobID: r.job.ID, Type: "prompt", Subtype: "button",
		Message: st.Message, Buttons: st.Buttons}
	if st.Type == collect.StepForm {
		data := map[string]string{}
		for _, f := range st.Fields {
			v, ok := r.changes[f]
			if !ok {
				v = r.current[f]
			}
			if v != "" && v != "0" { // only the non-zero, non-blank defaults (the vendor's document)
				data[f] = v
			}
		}
		m = formPromptMsg{WebsocketID: r.conn.ID, JobID: r.job.ID, Type: "prompt", Subtype: "form",
			Message: st.Message, FormID: st.FormID, Data: data}
	}
	if !r.send(m) {
		return answer{}, "the WebSocket closed"
	}
	timer := time.NewTimer(ps.timeout)
	defer timer.Stop()
	select {
	case a := <-w.answer:
		r.send(startEnd{r.conn.ID, r.job.ID, "end"})
		return a, ""
	case <-r.conn.Done():
		return answer{}, "the WebSocket closed while a prompt was pending"
	case <-timer.C:
		return answer{}, fmt.Sprintf("prompt not answered within %d seconds", int(ps.timeout/time.Second))
	case <-ctx.Done():
		return answer{}, "the request ended while a prompt was pending"
	}
}
