package collect_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models/collect"
	"switchboard/models/platform"
)

// wsSchemas are the payload schemas of every message of openapi/asyncapi/collect-ws.yaml, by message name.
type wsSchemas = apitest.AsyncSchemas

func loadWSSchemas(t *testing.T) wsSchemas {
	t.Helper()
	out := apitest.AsyncAPI(t, "collect-ws")
	for _, want := range []string{"key", "keyRequest", "start", "buttonPrompt", "formPrompt", "end", "buttonAnswer", "formAnswer"} {
		if out[want] == nil {
			t.Fatalf("collect-ws.yaml has no message %s", want)
		}
	}
	return out
}

// wsClient is an operator's prompt socket, every message checked against its AsyncAPI schema.
type wsClient struct {
	c  *websocket.Conn
	s  wsSchemas
	id string
}

func wsURL(e *env, query string) string {
	return "ws" + strings.TrimPrefix(e.URL(), "http") + "/collect/websocket" + query
}

// dialSocket opens a socket: with token in the query, or (query "") with the key handshake (R15).
func dialSocket(t *testing.T, e *env, s wsSchemas, token string, handshake bool) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := "?access_token=" + token
	if handshake {
		q = ""
	}
	c, _, err := websocket.Dial(ctx, wsURL(e, q), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	w := &wsClient{c: c, s: s}
	if handshake {
		w.send(t, "keyRequest", map[string]any{"type": "key", "access_token": token})
	}
	w.id = w.read(t, "key")["message"].(string)
	return w
}

// read reads the next message, which must be valid as message name.
func (w *wsClient) read(t *testing.T, name string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, msg, err := w.c.Read(ctx)
	if err != nil || typ != websocket.MessageText {
		t.Fatalf("read %s: %v", name, err)
	}
	if err := w.s.Check(name, msg); err != nil {
		t.Fatalf("%s breaks collect-ws.yaml: %s: %v", name, msg, err)
	}
	var out map[string]any
	_ = json.Unmarshal(msg, &out)
	return out
}

// send writes a message, which must be valid as message name.
func (w *wsClient) send(t *testing.T, name string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	w.sendRaw(t, name, b)
}

func (w *wsClient) sendRaw(t *testing.T, name string, b []byte) {
	t.Helper()
	if name != "" {
		if err := w.s.Check(name, b); err != nil {
			t.Fatalf("%s breaks collect-ws.yaml: %s: %v", name, b, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
}

// runPlan starts POST …/runplan in the background (it blocks while prompting) and answers a channel with
// its response, checked against collect.yaml.
func (r *records) runPlan(body string) <-chan *apitest.Response {
	out := make(chan *apitest.Response, 1)
	go func() {
		h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok, "Content-Type", "application/json")
		resp, err := r.e.Check(apitest.Request{Method: http.MethodPost, Path: "/collect/api/v1/collect/app/runplan", Header: h,
			Body: strings.NewReader(body)})
		if err != nil {
			resp = &apitest.Response{Status: -1, Body: []byte(err.Error())}
		}
		out <- resp
	}()
	return out
}

func wait(t *testing.T, ch <-chan *apitest.Response) *apitest.Response {
	t.Helper()
	select {
	case r := <-ch:
		if r.Status == -1 {
			t.Fatalf("runplan: %s", r.Body)
		}
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("runplan did not answer")
		return nil
	}
}

// TestWSSchemasRefuse: the schema check can fail.
func TestWSSchemasRefuse(t *testing.T) {
	t.Parallel()
	s := loadWSSchemas(t)
	for name, bad := range map[string]string{
		"key":          `{"type":"key","message":"not-an-id"}`,
		"start":        `{"websocket-id":"43tzLWO2RJzlxQPpsw4EOA==","type":"start"}`,
		"buttonPrompt": `{"websocket-id":"43tzLWO2RJzlxQPpsw4EOA==","jobid":"BB384B01-4C01-4678-8D9D-63D6B53A8804","type":"prompt","subtype":"button","buttons":[]}`,
		"formPrompt":   `{"websocket-id":"43tzLWO2RJzlxQPpsw4EOA==","jobid":"BB384B01-4C01-4678-8D9D-63D6B53A8804","type":"prompt","subtype":"form","formid":"x","data":{}}`,
		"end":          `{"websocket-id":"43tzLWO2RJzlxQPpsw4EOA==","jobid":"bb384b01-4c01-4678-8d9d-63d6b53a8804","type":"end"}`,
		"buttonAnswer": `{"jobid":"BB384B01-4C01-4678-8D9D-63D6B53A8804","button":-1}`,
		"formAnswer":   `{"jobid":"BB384B01-4C01-4678-8D9D-63D6B53A8804","button":4631,"data":{"co_type":5}}`,
		"keyRequest":   `{"type":"key"}`,
	} {
		if err := s.Check(name, []byte(bad)); err == nil {
			t.Errorf("%s: %s passed its schema", name, bad)
		}
	}
	if err := s.Check("key", []byte(`{"type":"key","message":"43tzLWO2RJzlxQPpsw4EOA=="}`)); err != nil {
		t.Errorf("the document's key message fails: %v", err)
	}
}

// TestRunPlan: a plan defined through the platform API runs on a debtor over the operator's socket: every
// message of collect-ws.yaml goes by, the answers change the row in one go; a socket closed mid-plan
// leaves nothing written and a failed job; sockets of another operator or database are refused.
func TestRunPlan(t *testing.T) {
	t.Parallel()
	schemas := loadWSSchemas(t)
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.setup(t, "cv_demodb")
		ctx := context.Background()
		demo, err := collect.FindDatabase(ctx, e.DB, "cv_demodb")
		if err != nil {
			t.Fatal(err)
		}
		e.addOperator(t, demo, "SAL", "Sales", "sal", true)
		salTok := e.login(t, "cv_demodb", "SAL", "sal").Result.AccessToken
		other := e.addDatabase(t, "cv_other")
		e.addOperator(t, other, "OWN", "Owner", "own", true)
		otherTok := e.login(t, "cv_other", "OWN", "own").Result.AccessToken

		_, key, err := platform.CreateAPIKey(ctx, e.DB, "admin", platform.ScopeAdmin)
		if err != nil {
			t.Fatal(err)
		}
		admin := func(method, path string, body any) *apitest.Response {
			t.Helper()
			req := apitest.Request{Method: method, Path: "/platform/collect-databases/" + strconv.FormatInt(demo.ID, 10) + path,
				Header: apitest.Headers("X-API-Key", key, "Content-Type", "application/json")}
			if body != nil {
				req.Body = apitest.JSONBody(t, body)
			}
			return e.Do(t, req)
		}
		const formID = "35d01ff2-775d-ccb4-8f53-25d36f517384"
		plan := admin("POST", "/plans", map[string]any{"code": "REV", "records": []string{"debtor"}, "steps": []map[string]any{
			{"type": "set", "field": "de_status", "value": "REV"},
			{"type": "button", "message": "Do you want to proceed?", "buttons": []string{"Yes", "No"}, "cancel": []int{1}},
			{"type": "form", "formid": formID, "fields": []string{"de_name", "de_listed_date"}, "values": []int{4631, 4632}, "cancel": []int{4632}},
		}})
		var created struct {
			ID          int64 `json:"id"`
			NeedsSocket bool  `json:"needs_socket"`
		}
		plan.JSON(t, &created)
		if plan.Status != 201 || !created.NeedsSocket {
			t.Fatalf("create plan: %d %s", plan.Status, plan.Body)
		}
		if got := admin("POST", "/plans", map[string]any{"code": "REV", "records": []string{"debtor"},
			"steps": []map[string]any{{"type": "set", "field": "de_status", "value": "X"}}}); got.Status != 409 {
			t.Fatalf("duplicate code: %d %s", got.Status, got.Body)
		}
		if got := admin("GET", "/plans/"+strconv.FormatInt(created.ID, 10), nil); got.Status != 200 || !strings.Contains(string(got.Body), formID) {
			t.Fatalf("get plan: %d %s", got.Status, got.Body)
		}
		if got := admin("GET", "/plans", nil); got.Status != 200 || !strings.Contains(string(got.Body), `"REV"`) {
			t.Fatalf("list plans: %d %s", got.Status, got.Body)
		}

		var made result
		r.do(t, "POST", "/debtor", `{"business-logic":4,"data":{"de_name":"Smith"}}`).JSON(t, &made)
		rowid := made.Data["de_rowid"]

		// The whole walk: key handshake, start, button prompt and answer, end, form prompt and answer, end.
		ws := dialSocket(t, e, schemas, r.tok, true)
		done := r.runPlan(`{"plan":"REV","debtor":"` + rowid + `","websocket-id":"` + ws.id + `"}`) // R14: rowid as a string
		start := ws.read(t, "start")
		job := start["jobid"].(string)
		if start["websocket-id"] != ws.id {
			t.Fatalf("start: %v", start)
		}
		bp := ws.read(t, "buttonPrompt")
		if bp["jobid"] != job || bp["message"] != "Do you want to proceed?" {
			t.Fatalf("button prompt: %v", bp)
		}
		ws.sendRaw(t, "", []byte(`{"jobid":"`+job+`","button":7}`)) // not offered: ignored
		ws.sendRaw(t, "", []byte(`not json`))                       // ignored
		ws.send(t, "buttonAnswer", map[string]any{"jobid": job, "button": 0})
		if end := ws.read(t, "end"); end["jobid"] != job {
			t.Fatalf("end: %v", end)
		}
		fp := ws.read(t, "formPrompt")
		if fp["formid"] != formID || fp["data"].(map[string]any)["de_name"] != "Smith" {
			t.Fatalf("form prompt: %v", fp)
		}
		ws.send(t, "formAnswer", map[string]any{"jobid": job, "button": 4631,
			"data": map[string]string{"de_name": "Smith Jr", "de_listed_date": "2024-01-02", "de_owing": "99"}})
		ws.read(t, "end")
		res := wait(t, done)
		var jr struct {
			Status int    `json:"status"`
			JobID  string `json:"jobid"`
		}
		res.JSON(t, &jr)
		if res.Status != 200 || jr.Status != 200 || jr.JobID != job {
			t.Fatalf("runplan: %d %s", res.Status, res.Body)
		}
		var got result
		r.do(t, "GET", "/debtor/"+rowid, "").JSON(t, &got)
		if got.Data["de_status"] != "REV" || got.Data["de_name"] != "Smith Jr" || got.Data["de_listed_date"] != "2024-01-02" || got.Data["de_owing"] != "0" {
			t.Fatalf("row after the plan: %v", got.Data)
		}
		if j := admin("GET", "/plan-jobs/"+job, nil); j.Status != 200 || !strings.Contains(string(j.Body), `"status":"done"`) {
			t.Fatalf("job: %d %s", j.Status, j.Body)
		}
		// Its deadline (the sweep of orphaned runs goes by it): two prompts of DefaultPromptTimeout, and a minute.
		var times struct{ CreatedAt, Deadline int64 }
		e.DB.Raw("SELECT created_at, deadline FROM collect_plan_jobs WHERE id = ?", job).Scan(&times)
		if d, want := times.Deadline-times.CreatedAt, int64(2*300+60); d < want-1 || d > want+1 {
			t.Fatalf("job's deadline %d s after its start, want %d", d, want)
		}

		// A socket closed mid-plan: nothing of the plan is written, the job says why.
		r.do(t, "PATCH", "/debtor/"+rowid, `{"data":{"de_status":"NEW"}}`)
		ws2 := dialSocket(t, e, schemas, r.tok, false)
		done = r.runPlan(`{"plan":"REV","debtor":` + rowid + `,"websocket-id":"` + ws2.id + `"}`)
		job2 := ws2.read(t, "start")["jobid"].(string)
		ws2.read(t, "buttonPrompt")
		_ = ws2.c.Close(websocket.StatusNormalClosure, "bye")
		res = wait(t, done)
		expectError(t, res, 422, "closed")
		r.do(t, "GET", "/debtor/"+rowid, "").JSON(t, &got)
		if got.Data["de_status"] != "NEW" || got.Data["de_name"] != "Smith Jr" {
			t.Fatalf("row after the failed plan: %v", got.Data)
		}
		if j := admin("GET", "/plan-jobs/"+job2, nil); j.Status != 200 || !strings.Contains(string(j.Body), `"status":"failed"`) ||
			!strings.Contains(string(j.Body), "closed") {
			t.Fatalf("failed job: %d %s", j.Status, j.Body)
		}

		// Cancelled at the button prompt: rolled back too.
		ws3 := dialSocket(t, e, schemas, r.tok, false)
		done = r.runPlan(`{"plan":"REV","debtor":` + rowid + `,"websocket-id":"` + ws3.id + `"}`)
		job3 := ws3.read(t, "start")["jobid"].(string)
		ws3.read(t, "buttonPrompt")
		ws3.send(t, "buttonAnswer", map[string]any{"jobid": job3, "button": 1})
		ws3.read(t, "end")
		expectError(t, wait(t, done), 422, "cancelled")
		r.do(t, "GET", "/debtor/"+rowid, "").JSON(t, &got)
		if got.Data["de_status"] != "NEW" {
			t.Fatalf("row after the cancelled plan: %v", got.Data)
		}

		// Errors, in Collect!'s shape (checked against collect.yaml by the harness).
		sal := dialSocket(t, e, schemas, salTok, false)
		oth := dialSocket(t, e, schemas, otherTok, true)
		for _, c := range []struct {
			body   string
			status int
			msg    string
		}{
			{`{"plan":"REV","debtor":` + rowid + `,"websocket-id":"` + sal.id + `"}`, 400, "not an open WebSocket"},
			{`{"plan":"REV","debtor":` + rowid + `,"websocket-id":"` + oth.id + `"}`, 400, "not an open WebSocket"},
			{`{"plan":"REV","debtor":` + rowid + `,"websocket-id":"AAAAAAAAAAAAAAAAAAAAAA=="}`, 400, "not an open WebSocket"},
			{`{"plan":"NOPE","debtor":` + rowid + `,"websocket-id":"` + ws3.id + `"}`, 404, "plan NOPE not found"},
			{`{"plan":"REV","debtor":999999,"websocket-id":"` + ws3.id + `"}`, 404, "not found"},
			{`{"plan":"REV","client":1,"websocket-id":"` + ws3.id + `"}`, 400, "does not apply"},
			{`{"plan":"REV","debtor":` + rowid + `}`, 422, "needs a WebSocket"},
		} {
			expectError(t, wait(t, r.runPlan(c.body)), c.status, c.msg)
		}
		// Header and body naming different sockets.
		h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok, "Content-Type", "application/json",
			"websocket-id", sal.id)
		expectError(t, e.Do(t, apitest.Request{Method: "POST", Path: "/collect/api/v1/collect/app/runplan", Header: h,
			Body: strings.NewReader(`{"plan":"REV","debtor":` + rowid + `,"websocket-id":"` + ws3.id + `"}`)}), 400, "different sockets")

		// A bad token refuses the upgrade with 401 and no socket; a bad handshake closes with 1008.
		_, resp, err := websocket.Dial(ctx, wsURL(e, "?access_token=cat_nope"), nil)
		if err == nil || resp == nil || resp.StatusCode != 401 {
			t.Fatalf("bad token: %v %v", err, resp)
		}
		c, _, err := websocket.Dial(ctx, wsURL(e, ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"key","access_token":"cat_nope"}`))
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, _, err := c.Read(rctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("bad handshake: %v", err)
		}

		// A deleted plan is gone; its jobs stay.
		if d := admin("DELETE", "/plans/"+strconv.FormatInt(created.ID, 10), nil); d.Status != 204 {
			t.Fatalf("delete plan: %d %s", d.Status, d.Body)
		}
		expectError(t, wait(t, r.runPlan(`{"plan":"REV","debtor":`+rowid+`}`)), 404, "plan REV not found")
		if j := admin("GET", "/plan-jobs/"+job, nil); j.Status != 200 {
			t.Fatalf("job after the plan's delete: %d %s", j.Status, j.Body)
		}

		// Logout closes the session's sockets.
		e.post(t, "/api/v1/auth/logout", "cv_demodb", salTok, "")
		rctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
		defer cancel2()
		if _, _, err := sal.c.Read(rctx2); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("socket after logout: %v", err)
		}
	})
}

// TestSweepRegistered: the service runs the sweep of orphaned plan runs (collect.SweepJobs, tested in
// models/collect) on its job queue from the start, and the sweep's job completes.
func TestSweepRegistered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var states []string
		e.DB.Raw("SELECT state FROM river_job WHERE kind = 'collect_plan_jobs_sweep'").Scan(&states)
		if len(states) == 1 && states[0] == "completed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sweep jobs at start: %v, want one completed", states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEndedSessionsCloseSockets: a session ended otherwise than by its own logout (its operator deactivated
// here) closes its sockets with 1008 within moments; on Postgres a logout on one node closes the session's
// socket on another.
func TestEndedSessionsCloseSockets(t *testing.T) {
	t.Parallel()
	schemas := loadWSSchemas(t)
	closed := func(t *testing.T, w *wsClient, what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, _, err := w.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("socket after %s: %v, want close 1008", what, err)
		}
	}
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		d := e.addDatabase(t, "cv_ended")
		op := e.addOperator(t, d, "SAL", "Sal", "sal", true)
		e.addOperator(t, d, "OWN", "Own", "own", true)
		sal := dialSocket(t, e, schemas, e.login(t, "cv_ended", "SAL", "sal").Result.AccessToken, false)
		own := dialSocket(t, e, schemas, e.login(t, "cv_ended", "OWN", "own").Result.AccessToken, true)
		off := false
		if _, err := collect.UpdateOperator(context.Background(), e.DB, d.Scope(), op.ID, collect.OperatorFields{Active: &off}); err != nil {
			t.Fatal(err)
		}
		closed(t, sal, "its operator's deactivation")
		// The other operator's socket stays open past another check (the read ends by its own deadline).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, _, err := own.c.Read(ctx); websocket.CloseStatus(err) != -1 || ctx.Err() == nil {
			t.Fatalf("the other operator's socket: %v", err)
		}
	})
	t.Run("nodes", func(t *testing.T) {
		if !slices.Contains(apitest.Kinds(t), "postgres") {
			t.Skip("Postgres is unreachable")
		}
		nodes := apitest.NewNodes(t, 2, app.Options{})
		a, b := &env{Env: nodes[0]}, &env{Env: nodes[1]}
		d := a.addDatabase(t, "cv_ended")
		a.addOperator(t, d, "SAL", "Sal", "sal", true)
		tok := a.login(t, "cv_ended", "SAL", "sal").Result.AccessToken
		onB := dialSocket(t, b, schemas, tok, false)
		if r := a.post(t, "/api/v1/auth/logout", "cv_ended", tok, ""); r.Status != 200 {
			t.Fatalf("logout on A: %d %s", r.Status, r.Body)
		}
		closed(t, onB, "a logout on another node")
	})
}
