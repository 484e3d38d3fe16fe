package ucontact_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/auth"
	"switchboard/gateway"
	"switchboard/handlers/ucontact"
	"switchboard/models/events"
	mu "switchboard/models/ucontact"
	"switchboard/queue"
	"switchboard/server"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// base is the path every uContact service hangs under.
const base = "/ucontact/Integra/resources/"

// recorder is the call-event publisher of the tests: it keeps what the handler publishes, as the
// platform's publisher would receive it, and is idempotent on (UniqueID, State) as the contract says.
type recorder struct {
	mu     sync.Mutex
	events []events.CallEvent
	fail   error // when set, Publish answers it
}

func (r *recorder) Publish(_ context.Context, e events.CallEvent) (events.CallEvent, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return events.CallEvent{}, false, r.fail
	}
	for _, old := range r.events {
		if old.UniqueID == e.UniqueID && old.State == e.State {
			return old, false, nil
		}
	}
	r.events = append(r.events, e)
	return e, true, nil
}

// of answers the events published for a unique id, in order.
func (r *recorder) of(uniqueID string) []events.CallEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.CallEvent
	for _, e := range r.events {
		if e.UniqueID == uniqueID {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// env is the uContact API under test, served through the whole contract middleware (every response
// validated against openapi/ucontact.yaml), with its own job queue and a recording publisher.
type env struct {
	*apitest.Env
	events *recorder
}

// region reads national numbers of the do-not-call lists: Pakistani ones.
const region = "PK"

func newEnv(t *testing.T, kind string) *env {
	return newEnvWithSim(t, kind, gateway.SimConfig{})
}

func newEnvWithSim(t *testing.T, kind string, sim gateway.SimConfig) *env {
	t.Helper()
	db := apitest.NewDB(t, kind)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := queue.New(db, queue.Config{Log: log, PollInterval: 50 * time.Millisecond, FetchCooldown: 10 * time.Millisecond})
	rec := &recorder{}
	h, err := ucontact.New(ucontact.Config{DB: db, Logins: auth.NewGuard(auth.GuardConfig{}), Queue: q, Sim: sim, Events: rec,
		Region: region, Zone: time.UTC, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{DB: db, Log: log, APIs: []server.API{h}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stop the job queue: %v", err)
		}
	})
	return &env{Env: &apitest.Env{T: t, Kind: kind, DB: db, Handler: srv}, events: rec}
}

// addUser stores a uContact user directly (as the platform API does).
func (e *env) addUser(t *testing.T, name, role, password, phone string) *mu.User {
	t.Helper()
	u, err := mu.CreateUser(context.Background(), e.DB, mu.UserInput{Name: name, Role: role, Password: password, Phone: phone, Fullname: "Full " + name})
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// addCampaign stores a campaign directly.
func (e *env) addCampaign(t *testing.T, name, channel, callerid string) *mu.Campaign {
	t.Helper()
	c, err := mu.CreateCampaign(context.Background(), e.DB, name, channel, callerid)
	if err != nil {
		t.Fatalf("campaign %s: %v", name, err)
	}
	return c
}

// post sends a form to a service with a key ("" sends none).
func (e *env) post(t *testing.T, path, key string, form url.Values) *apitest.Response {
	t.Helper()
	h := apitest.Headers("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if key != "" {
		h.Set("Authorization", "Basic "+key)
	}
	return e.Do(t, apitest.Request{Method: http.MethodPost, Path: base + path, Body: strings.NewReader(form.Encode()), Header: h})
}

// get sends a GET with a key ("" sends none).
func (e *env) get(t *testing.T, path, key string) *apitest.Response {
	t.Helper()
	h := http.Header{}
	if key != "" {
		h.Set("Authorization", "Basic "+key)
	}
	return e.Do(t, apitest.Request{Method: http.MethodGet, Path: base + path, Header: h})
}

// login logs a supervisor in with UserLogin and answers its key (the last item of the list).
func (e *env) login(t *testing.T, name, password string) string {
	t.Helper()
	r := e.post(t, "auth/UserLogin", "", url.Values{"user": {name}, "password": {password}})
	var list []json.RawMessage
	r.JSON(t, &list)
	if r.Status != http.StatusOK || len(list) == 0 {
		t.Fatalf("UserLogin %s: %d %s", name, r.Status, r.Body)
	}
	var key string
	if err := json.Unmarshal(list[len(list)-1], &key); err != nil {
		t.Fatalf("UserLogin %s: last item %s is not the key", name, list[len(list)-1])
	}
	return key
}

// agentLogin logs an agent in and answers its key (md5secret).
func (e *env) agentLogin(t *testing.T, name, password string) string {
	t.Helper()
	r := e.post(t, "auth/AgentLogin", "", url.Values{"agent": {name}, "password": {password}})
	var p struct {
		Md5secret string `json:"md5secret"`
	}
	r.JSON(t, &p)
	if r.Status != http.StatusOK || p.Md5secret == "" {
		t.Fatalf("AgentLogin %s: %d %s", name, r.Status, r.Body)
	}
	return p.Md5secret
}

// expect checks a plain-text answer: its status and body, and for an error the X-Switchboard-Error
// header containing msg.
func expect(t *testing.T, r *apitest.Response, status int, body, msg string) {
	t.Helper()
	if r.Status != status || string(r.Body) != body || !strings.Contains(r.Header.Get("X-Switchboard-Error"), msg) {
		t.Fatalf("got %d %q (%s), want %d %q with an error containing %q", r.Status, r.Body, r.Header.Get("X-Switchboard-Error"), status, body, msg)
	}
}

// count answers the rows of a table matching a condition.
func (e *env) count(t *testing.T, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := e.DB.Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// waitCall waits until the calls matching where leave the dialer's hands (pending, dialing; answered until its
// events are out) and answers them.
func (e *env) waitCall(t *testing.T, where string, args ...any) []mu.Call {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var cs []mu.Call
		if err := e.DB.Where(where, args...).Order("id").Find(&cs).Error; err != nil {
			t.Fatal(err)
		}
		done := len(cs) > 0
		for _, c := range cs {
			// An answered call's events (answered, ended) are published after its status commits.
			if c.Status == mu.CallPending || c.Status == mu.CallDialing || c.Status == mu.CallAnswered && len(e.events.of(c.UniqueID())) < 2 {
				done = false
			}
		}
		if done {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls where %s %v still in the dialer: %+v", where, args, cs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSMS waits until the SMS matching where are out of the queue and answers them.
func (e *env) waitSMS(t *testing.T, where string, args ...any) []mu.SMS {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ms []mu.SMS
		if err := e.DB.Where(where, args...).Order("id").Find(&ms).Error; err != nil {
			t.Fatal(err)
		}
		done := len(ms) > 0
		for _, m := range ms {
			if m.Status == mu.SMSQueued || m.Status == mu.SMSSending {
				done = false
			}
		}
		if done {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMS where %s %v still queued: %+v", where, args, ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
